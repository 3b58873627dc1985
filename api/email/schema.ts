import { z } from 'zod';
import { freeText as freeTextField, noCardNumber } from '../http/free-text.ts';
import { NEWSLETTER_TOPICS } from '../customers/schema.ts';

/**
 * Email: the templates, the data each one renders, campaign requests and the email log's shapes.
 * Zod only (no Node imports): the console shares `ChatTranscriptRequest` and the admin screens the views.
 */

export const ORDER_TEMPLATES = ['order_confirmation', 'payment_failed', 'fraud_hold', 'order_declined', 'order_shipped', 'order_cancelled'] as const;
export const SUBSCRIPTION_TEMPLATES = ['subscription_upcoming', 'subscription_created', 'subscription_failed'] as const;
export const EMAIL_TEMPLATES = [...ORDER_TEMPLATES, ...SUBSCRIPTION_TEMPLATES, 'chat_transcript', 'marketing_newsletter'] as const;
export type EmailTemplateName = (typeof EMAIL_TEMPLATES)[number];
export type OrderTemplateName = (typeof ORDER_TEMPLATES)[number];
export type SubscriptionTemplateName = (typeof SUBSCRIPTION_TEMPLATES)[number];
export const EmailTemplateNameSchema = z.enum(EMAIL_TEMPLATES);

/** Transactional mail always goes out (PIA: no opt-out for order mail); marketing needs a recorded opt-in. */
export type EmailCategory = 'transactional' | 'marketing';
export const categoryOf = (template: EmailTemplateName): EmailCategory => (template === 'marketing_newsletter' ? 'marketing' : 'transactional');

export const isOrderTemplate = (template: string): template is OrderTemplateName => (ORDER_TEMPLATES as readonly string[]).includes(template);
export const isSubscriptionTemplate = (template: string): template is SubscriptionTemplateName => (SUBSCRIPTION_TEMPLATES as readonly string[]).includes(template);

// Digit runs of 13-19 digits, optionally grouped by a space, dot, slash or dash; lookarounds rather than
// \b so a run glued to letters ("card4111...") is still caught.
const CARD_NUMBER_RUN = /(?<!\d)(?:\d[ ./-]?){12,18}\d(?!\d)/g;

/**
 * Any card-number-like run becomes `•••• 1234`. Upstream modules mask already (the chat module,
 * the vault); email masks again because a missed PAN in a sent email cannot be recalled.
 */
export function maskCardNumbers(text: string): string {
  return text.replace(CARD_NUMBER_RUN, (run) => `•••• ${run.replace(/\D/g, '').slice(-4)}`);
}

// Free text shown to the reader: control characters out (they break text mail and headers), card numbers masked.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
const freeText = (max: number) =>
  z
    .string()
    .max(max)
    .transform((value) => maskCardNumbers(value.replace(CONTROL_CHARS, '')).trim());
/** One line: no line breaks either (names, subjects). */
const lineText = (max: number) =>
  z
    .string()
    .max(max)
    .transform((value) => maskCardNumbers(value.replace(CONTROL_CHARS, '').replace(/[\r\n\t]+/g, ' ')).trim());

/** Links in mail: http(s) only, so a `javascript:` or `data:` URL can never become an href. */
export const httpUrl = z
  .string()
  .max(2000)
  .refine((value) => {
    try {
      return ['http:', 'https:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'expected an http(s) URL');

const cents = z.number().int().min(0).max(100_000_000);
const isoDate = z.iso.datetime({ offset: true });
const personName = lineText(120);

// --- order emails: built by the worker from the order in Mongo (api/orders) ---

export const OrderEmailLine = z.object({
  name: lineText(200),
  sku: z.string().max(40).regex(/^[A-Za-z0-9-]+$/),
  quantity: z.number().int().min(1).max(10_000),
  unitPriceCents: cents,
  lineTotalCents: cents,
});

/**
 * Where a shipment goes, as the purchaser may see it: the recipient's name and city/state only.
 * A gift recipient's street and ZIP are used for delivery alone (PIA C.1(6)) and never mailed.
 */
export const OrderEmailShipment = z.object({
  recipientName: personName,
  city: lineText(80),
  state: lineText(40),
  gift: z.boolean().default(false),
  carrier: lineText(40).optional(),
  trackingNumber: z.string().trim().max(40).regex(/^[A-Za-z0-9 -]+$/, 'letters, digits, spaces and dashes only').optional(),
});

export const OrderEmailData = z.object({
  firstName: personName,
  orderNumber: z.string().regex(/^[A-Za-z0-9-]{4,20}$/),
  placedAt: isoDate,
  lines: z.array(OrderEmailLine).min(1).max(100),
  totals: z.object({ subtotalCents: cents, taxCents: cents, shippingCents: cents, totalCents: cents }),
  /** Brand and last four only. */
  card: z.object({ brand: lineText(20), last4: z.string().regex(/^\d{4}$/) }),
  shipments: z.array(OrderEmailShipment).min(1).max(10),
});
export type OrderEmailData = z.infer<typeof OrderEmailData>;

export const PaymentFailedData = OrderEmailData.extend({
  /** The gateway's decline code; the template words it without revealing balances to a third party. */
  reason: z.string().max(40).optional(),
});

// --- subscription emails: data comes from the subscriptions module in the job ---

export const SubscriptionUpcomingData = z.object({
  firstName: personName,
  programName: lineText(120),
  releaseName: lineText(200),
  releaseDate: isoDate.optional(),
  priceCents: cents.optional(),
  /** Until when the subscriber may answer before the order is placed. */
  respondBy: isoDate.optional(),
  confirmUrl: httpUrl,
  skipUrl: httpUrl,
  cancelUrl: httpUrl,
});
export const SubscriptionCreatedData = z.object({
  firstName: personName,
  programName: lineText(120),
  manageUrl: httpUrl.optional(),
});
export const SubscriptionFailedData = z.object({
  firstName: personName,
  programName: lineText(120),
  releaseName: lineText(200).optional(),
  reason: freeText(300).optional(),
  updatePaymentUrl: httpUrl.optional(),
});

// --- chat transcript ---

export const TranscriptLine = z.object({
  at: isoDate.optional(),
  from: z.enum(['customer', 'agent', 'system']),
  /** Display name: the agent's first name or "You". */
  name: personName.optional(),
  text: freeText(4000),
});
export const ChatTranscriptData = z.object({
  firstName: personName.optional(),
  startedAt: isoDate.optional(),
  lines: z.array(TranscriptLine).min(1).max(2000),
});

/** What the console sends: the visitor's address, the customer if known, and the masked lines. */
export const ChatTranscriptRequest = z.strictObject({
  to: z.string().trim().toLowerCase().email().max(254),
  customerId: z.uuid().optional(),
  startedAt: isoDate.optional(),
  lines: z.array(TranscriptLine).min(1).max(2000),
});
export type ChatTranscriptRequest = z.input<typeof ChatTranscriptRequest>;

// --- marketing ---

export const NewsletterTopicSchema = z.enum(NEWSLETTER_TOPICS);
export const TOPIC_TITLES: Record<(typeof NEWSLETTER_TOPICS)[number], string> = {
  product_updates: 'Product and Promotion Updates',
  lessons_that_make_cents: 'Lessons That Make Cents',
  news_releases: 'News Releases',
  coins_online: 'Coins Online',
};

/**
 * A campaign's HTML is markup an admin wrote and is sent as written, inside the branded layout.
 * Active content is refused outright: mail clients drop it anyway, and refusing it keeps a
 * stolen admin session from using our domain to mail scripts or phishing forms.
 */
const ACTIVE_CONTENT = /<\s*(script|iframe|object|embed|form|input|button|meta|link|base|style)\b|<[^>]*\son[a-z]+\s*=|javascript:|vbscript:|data:text\/html/i;
export const CampaignHtml = z
  .string()
  .min(1)
  .max(200_000)
  .refine((html) => !ACTIVE_CONTENT.test(html), 'Scripts, frames, forms, style blocks, event handlers and javascript: links are not allowed; use inline styles.');

export const MarketingNewsletterData = z.object({
  firstName: personName.optional(),
  topic: NewsletterTopicSchema,
  subject: lineText(200),
  html: CampaignHtml,
  text: freeText(100_000),
  unsubscribeUrl: httpUrl,
});

export const CampaignRequest = z.strictObject({
  topic: NewsletterTopicSchema,
  subject: freeTextField(200, { min: 3 }),
  // Sent to every subscriber as written, so a card number in the markup is refused like one in the text.
  html: CampaignHtml.check(noCardNumber()),
  text: freeTextField(100_000, { min: 1 }),
});
export type CampaignRequest = z.infer<typeof CampaignRequest>;

// --- the email log ---

/**
 * `queued`: content prepared, job not run yet (chat transcripts). `sending`: claimed by a worker.
 * `retrying`: the last attempt failed and the queue will try again. `failed`: dead-lettered after
 * the last attempt (or a permanent error). `skipped`: nothing to send (consent withdrawn).
 */
export const EMAIL_LOG_STATES = ['queued', 'sending', 'sent', 'retrying', 'failed', 'skipped'] as const;
export type EmailLogState = (typeof EMAIL_LOG_STATES)[number];

export const EmailLogQuery = z.strictObject({
  state: z.enum(EMAIL_LOG_STATES).optional(),
  template: EmailTemplateNameSchema.optional(),
  campaignId: z.uuid().optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});
export type EmailLogQuery = z.infer<typeof EmailLogQuery>;

export const PreviewQuery = z.strictObject({ format: z.enum(['html', 'text']).default('html') });

export interface EmailLogError {
  at: string;
  attempt: number;
  code: string | null;
  message: string;
}

export interface EmailLogEntryView {
  eventId: string;
  template: string;
  category: EmailCategory;
  state: EmailLogState;
  /** Masked in lists (`a***@example.com`); the full address only on the audited single read. */
  to: string | null;
  subject: string | null;
  messageId: string | null;
  orderId: string | null;
  customerId: string | null;
  campaignId: string | null;
  attempts: number;
  lastError: EmailLogError | null;
  skipReason: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
}

export interface EmailLogPage {
  items: EmailLogEntryView[];
  page: number;
  pageSize: number;
  total: number;
}

export interface CampaignView {
  campaignId: string;
  topic: string;
  subject: string;
  createdBy: string;
  createdAt: string;
  /** One job per subscriber found when the campaign was queued. */
  queued: number;
  /** From the email log: how many of those jobs reached each state so far. */
  progress: Partial<Record<EmailLogState, number>>;
}
