import type { z } from 'zod';
import type { OrderDoc } from '../orders/model.ts';
import { parseOrThrow } from '../../platform/errors.ts';
import { escapeHtml } from '../../platform/html.ts';
import {
  categoryOf,
  ChatTranscriptData,
  MarketingNewsletterData,
  OrderEmailData,
  PaymentFailedData,
  SubscriptionCreatedData,
  SubscriptionFailedData,
  SubscriptionUpcomingData,
  TOPIC_TITLES,
  type EmailCategory,
  type EmailTemplateName,
} from './schema.ts';
import {
  button,
  describeCard,
  formatCents,
  formatDate,
  formatTime,
  html,
  layoutHtml,
  layoutText,
  link,
  oneLine,
  SafeHtml,
  styles,
  trackingUrl,
  trustedHtml,
  type EmailBrand,
} from './render.ts';

/**
 * Every email the platform sends: its data schema (api/email/schema.ts), subject, HTML and text
 * bodies, and sample data for the admin preview. Rendering validates the data first, so a template
 * only ever sees masked, length-checked values; the `html` tag escapes each of them.
 */

export interface TemplateContent {
  subject: string;
  /** The preview line mail clients show after the subject. */
  preheader: string;
  html: SafeHtml;
  text: string;
  /** Marketing mail replaces the service-message footer with its unsubscribe footer. */
  footer?: { html: SafeHtml; text: string };
}

interface TemplateDefinition<S extends z.ZodType> {
  schema: S;
  build(data: z.output<S>, brand: EmailBrand): TemplateContent;
  sample: z.input<S>;
}

const define = <S extends z.ZodType>(definition: TemplateDefinition<S>) => definition;

export interface RenderedEmail {
  template: EmailTemplateName;
  category: EmailCategory;
  subject: string;
  html: string;
  text: string;
}

// --- shared pieces of order emails ---

type OrderData = z.output<typeof OrderEmailData>;

function orderSummaryHtml(data: OrderData): SafeHtml {
  const rows = data.lines.map(
    (line) => html`<tr>
<td style="${styles.td}">${line.name}<br><span style="font-size:12px;color:#5b6770;">${line.sku}</span></td>
<td style="${styles.tdRight}">${line.quantity}</td>
<td style="${styles.tdRight}">${formatCents(line.unitPriceCents)}</td>
<td style="${styles.tdRight}">${formatCents(line.lineTotalCents)}</td>
</tr>`,
  );
  const { totals } = data;
  return html`<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="${styles.table}">
<tr><th style="${styles.th}">Item</th><th style="${styles.th}text-align:right;">Qty</th><th style="${styles.th}text-align:right;">Price</th><th style="${styles.th}text-align:right;">Total</th></tr>
${rows}
<tr><td colspan="3" style="${styles.totalLabel}">Subtotal</td><td style="${styles.totalValue}">${formatCents(totals.subtotalCents)}</td></tr>
<tr><td colspan="3" style="${styles.totalLabel}">Shipping</td><td style="${styles.totalValue}">${formatCents(totals.shippingCents)}</td></tr>
<tr><td colspan="3" style="${styles.totalLabel}">Tax</td><td style="${styles.totalValue}">${formatCents(totals.taxCents)}</td></tr>
<tr><td colspan="3" style="${styles.totalLabel}font-weight:bold;color:#14284b;">Total</td><td style="${styles.grandTotal}">${formatCents(totals.totalCents)}</td></tr>
</table>
<p style="${styles.small}margin-top:12px;">Payment: ${describeCard(data.card)}</p>`;
}

function orderSummaryText(data: OrderData): string {
  const lines = data.lines.map((line) => `  ${line.quantity} x ${line.name} (${line.sku}) @ ${formatCents(line.unitPriceCents)} = ${formatCents(line.lineTotalCents)}`);
  const { totals } = data;
  return [
    'Items:',
    ...lines,
    '',
    `  Subtotal: ${formatCents(totals.subtotalCents)}`,
    `  Shipping: ${formatCents(totals.shippingCents)}`,
    `  Tax:      ${formatCents(totals.taxCents)}`,
    `  Total:    ${formatCents(totals.totalCents)}`,
    '',
    `Payment: ${describeCard(data.card)}`,
  ].join('\n');
}

function shipToHtml(data: OrderData, withTracking = false): SafeHtml {
  const items = data.shipments.map((shipment) => {
    const url = withTracking ? trackingUrl(shipment.carrier, shipment.trackingNumber) : undefined;
    const tracking =
      withTracking && shipment.carrier && shipment.trackingNumber
        ? html`<br>${shipment.carrier} tracking number: ${url ? link(shipment.trackingNumber, url) : shipment.trackingNumber}`
        : '';
    return html`<div style="${styles.panel}"><strong>${shipment.recipientName}</strong>${shipment.gift ? ' (gift)' : ''}<br>${shipment.city}, ${shipment.state}${tracking}</div>`;
  });
  return html`<h2 style="${styles.h2}">${data.shipments.length > 1 ? 'Shipping to' : 'Ships to'}</h2>${items}`;
}

function shipToText(data: OrderData, withTracking = false): string {
  const items = data.shipments.map((shipment) => {
    const url = withTracking ? trackingUrl(shipment.carrier, shipment.trackingNumber) : undefined;
    const tracking = withTracking && shipment.carrier && shipment.trackingNumber ? `\n  ${shipment.carrier} tracking number: ${shipment.trackingNumber}${url ? `\n  Track it: ${url}` : ''}` : '';
    return `  ${shipment.recipientName}${shipment.gift ? ' (gift)' : ''}, ${shipment.city}, ${shipment.state}${tracking}`;
  });
  return `Ships to:\n${items.join('\n')}`;
}

/** An order email: heading, paragraphs (plain strings, escaped by `html`), then the order summary. */
function orderEmail(data: OrderData, parts: { subject: string; heading: string; paragraphs: string[]; withTracking?: boolean; summary?: boolean }): TemplateContent {
  const summary = parts.summary !== false;
  return {
    subject: parts.subject,
    preheader: parts.paragraphs[0] ?? parts.heading,
    html: html`<h1 style="${styles.h1}">${parts.heading}</h1>
<p style="${styles.p}">Dear ${data.firstName},</p>
${parts.paragraphs.map((paragraph) => html`<p style="${styles.p}">${paragraph}</p>`)}
<p style="${styles.small}">Order number <strong>${data.orderNumber}</strong>, placed ${formatDate(data.placedAt)}</p>
${parts.withTracking || summary ? shipToHtml(data, parts.withTracking) : ''}
${summary ? html`<h2 style="${styles.h2}">Your order</h2>${orderSummaryHtml(data)}` : ''}`,
    text: [
      parts.heading,
      '',
      `Dear ${data.firstName},`,
      '',
      ...parts.paragraphs.flatMap((paragraph) => [paragraph, '']),
      `Order number ${data.orderNumber}, placed ${formatDate(data.placedAt)}`,
      '',
      parts.withTracking || summary ? shipToText(data, parts.withTracking) : '',
      '',
      summary ? orderSummaryText(data) : '',
    ].join('\n'),
  };
}

const DECLINE_WORDING: Record<string, string> = {
  expired_card: 'The card has expired.',
  incorrect_number: 'The card details did not match the card issuer’s records.',
  incorrect_cvc: 'The card details did not match the card issuer’s records.',
};
// A purchaser's email may be read by someone else: never say "insufficient funds".
const GENERIC_DECLINE = 'The card issuer did not approve the payment.';

/** Keeps line breaks of free text (chat messages) in HTML: escape each line, join with <br>. */
function multiline(text: string): SafeHtml {
  return new SafeHtml(text.split(/\r?\n/).map(escapeHtml).join('<br>'));
}

const SAMPLE_ORDER = {
  firstName: 'Ada',
  orderNumber: '12345674',
  placedAt: '2025-03-03T15:04:05.000Z',
  lines: [
    { name: '2025 American Eagle One Ounce Silver Proof Coin', sku: 'AE25-PROOF', quantity: 2, unitPriceCents: 9_500, lineTotalCents: 19_000 },
    { name: '2025 United States Mint Proof Set', sku: 'PS25', quantity: 1, unitPriceCents: 3_575, lineTotalCents: 3_575 },
  ],
  totals: { subtotalCents: 22_575, taxCents: 0, shippingCents: 495, totalCents: 23_070 },
  card: { brand: 'visa', last4: '4242' },
  shipments: [
    { recipientName: 'Ada Lovelace', city: 'Washington', state: 'DC', gift: false },
    { recipientName: 'Charles Babbage', city: 'Springfield', state: 'IL', gift: true },
  ],
};
const SAMPLE_SHIPPED = {
  ...SAMPLE_ORDER,
  shipments: SAMPLE_ORDER.shipments.map((s) => ({ ...s, carrier: 'USPS', trackingNumber: '9400111899223197428490' })),
};

// --- the templates ---

export const TEMPLATES = {
  order_confirmation: define({
    schema: OrderEmailData,
    sample: SAMPLE_ORDER,
    build: (data) =>
      orderEmail(data, {
        subject: `We received your order ${data.orderNumber}`,
        heading: 'Thank you for your order',
        paragraphs: [
          `We have received your order and are getting it ready. Your ${describeCard(data.card)} will be charged ${formatCents(data.totals.totalCents)} once the order is verified.`,
          'We will email you again when it ships.',
        ],
      }),
  }),

  payment_failed: define({
    schema: PaymentFailedData,
    sample: { ...SAMPLE_ORDER, reason: 'card_declined' },
    build: (data) =>
      orderEmail(data, {
        subject: `We could not complete your order ${data.orderNumber}`,
        heading: 'Your payment was not approved',
        paragraphs: [
          `We could not complete your order because the payment with your ${describeCard(data.card)} was not approved. ${DECLINE_WORDING[data.reason ?? ''] ?? GENERIC_DECLINE}`,
          'You have not been charged and the items have been released. You are welcome to place the order again with another card.',
        ],
      }),
  }),

  // The purchaser is never told that an order was flagged: it is "a routine check".
  fraud_hold: define({
    schema: OrderEmailData,
    sample: SAMPLE_ORDER,
    build: (data) =>
      orderEmail(data, {
        subject: `Your order ${data.orderNumber} is being reviewed`,
        heading: 'We are reviewing your order',
        paragraphs: [
          'Before we process your order we are taking a moment to verify a few details. This is a routine check and usually takes about one business day.',
          'You do not need to do anything now. Your card has not been charged, and we will email you as soon as the review is complete.',
        ],
      }),
  }),

  order_declined: define({
    schema: OrderEmailData,
    sample: SAMPLE_ORDER,
    build: (data) =>
      orderEmail(data, {
        subject: `We are unable to complete your order ${data.orderNumber}`,
        heading: 'We are unable to complete your order',
        paragraphs: [
          'After reviewing your order we are unable to complete it. Your card has not been charged; any pending authorization will be released by your card issuer.',
          'If you have questions, reply to this email and our customer service team will help.',
        ],
        summary: false,
      }),
  }),

  order_shipped: define({
    schema: OrderEmailData,
    sample: SAMPLE_SHIPPED,
    build: (data) =>
      orderEmail(data, {
        subject: `Your order ${data.orderNumber} has shipped`,
        heading: 'Your order is on its way',
        paragraphs: ['Good news: your order has shipped. Tracking details for each package are below; it can take a day for the carrier to show the first scan.'],
        withTracking: true,
      }),
  }),

  order_cancelled: define({
    schema: OrderEmailData,
    sample: SAMPLE_ORDER,
    build: (data) =>
      orderEmail(data, {
        subject: `Your order ${data.orderNumber} has been cancelled`,
        heading: 'Your order has been cancelled',
        paragraphs: [
          `Your order has been cancelled. If your ${describeCard(data.card)} was charged, the refund of ${formatCents(data.totals.totalCents)} is on its way; it may take a few business days to appear on your statement.`,
        ],
      }),
  }),

  subscription_upcoming: define({
    schema: SubscriptionUpcomingData,
    sample: {
      firstName: 'Ada',
      programName: 'Proof Set Subscription',
      releaseName: '2025 United States Mint Proof Set',
      releaseDate: '2025-04-15T14:00:00.000Z',
      priceCents: 3_575,
      respondBy: '2025-04-10T03:59:59.000Z',
      confirmUrl: 'https://store.example.com/subscriptions/respond?action=confirm&token=sample',
      skipUrl: 'https://store.example.com/subscriptions/respond?action=skip&token=sample',
      cancelUrl: 'https://store.example.com/subscriptions/respond?action=cancel&token=sample',
    },
    build: (data) => {
      const when = data.releaseDate ? ` It is released on ${formatDate(data.releaseDate)}.` : '';
      const price = data.priceCents !== undefined ? ` Your card on file will be charged ${formatCents(data.priceCents)} plus shipping when it ships.` : '';
      const deadline = data.respondBy ? `Please let us know by ${formatDate(data.respondBy)} if you want to skip this release or cancel; otherwise it will be sent to you.` : 'If you want to skip this release or cancel, let us know before it ships; otherwise it will be sent to you.';
      const intro = `${data.releaseName} is the next release in your ${data.programName}.${when}${price}`;
      return {
        subject: `Coming soon in your ${data.programName}: ${data.releaseName}`,
        preheader: intro,
        html: html`<h1 style="${styles.h1}">Your next release is coming</h1>
<p style="${styles.p}">Dear ${data.firstName},</p>
<p style="${styles.p}">${intro}</p>
<p style="${styles.p}">${deadline}</p>
<p style="${styles.p}">${button('Confirm', data.confirmUrl)}${button('Skip this release', data.skipUrl, true)}${button('Cancel subscription', data.cancelUrl, true)}</p>`,
        text: [
          'Your next release is coming',
          '',
          `Dear ${data.firstName},`,
          '',
          intro,
          '',
          deadline,
          '',
          `Confirm: ${data.confirmUrl}`,
          `Skip this release: ${data.skipUrl}`,
          `Cancel subscription: ${data.cancelUrl}`,
        ].join('\n'),
      };
    },
  }),

  subscription_created: define({
    schema: SubscriptionCreatedData,
    sample: { firstName: 'Ada', programName: 'Proof Set Subscription', manageUrl: 'https://store.example.com/account/subscriptions' },
    build: (data) => {
      const intro = `You are now subscribed to the ${data.programName}. Before each release we will email you with the details and a chance to skip it or cancel.`;
      return {
        subject: `Welcome to the ${data.programName}`,
        preheader: intro,
        html: html`<h1 style="${styles.h1}">Your subscription has started</h1>
<p style="${styles.p}">Dear ${data.firstName},</p>
<p style="${styles.p}">${intro}</p>
${data.manageUrl ? html`<p style="${styles.p}">${button('Manage your subscriptions', data.manageUrl, true)}</p>` : ''}`,
        text: ['Your subscription has started', '', `Dear ${data.firstName},`, '', intro, data.manageUrl ? `\nManage your subscriptions: ${data.manageUrl}` : ''].join('\n'),
      };
    },
  }),

  subscription_failed: define({
    schema: SubscriptionFailedData,
    sample: { firstName: 'Ada', programName: 'Proof Set Subscription', releaseName: '2025 United States Mint Proof Set', reason: 'The card on file has expired.', updatePaymentUrl: 'https://store.example.com/account/payment' },
    build: (data) => {
      const what = data.releaseName ? `your ${data.programName} order for ${data.releaseName}` : `your ${data.programName} order`;
      const intro = `We could not place ${what}.${data.reason ? ` ${data.reason}` : ''}`;
      const next = 'Please update the payment method of your subscription so we can send future releases.';
      return {
        subject: `We could not process your ${data.programName} order`,
        preheader: intro,
        html: html`<h1 style="${styles.h1}">We could not process your subscription order</h1>
<p style="${styles.p}">Dear ${data.firstName},</p>
<p style="${styles.p}">${intro}</p>
<p style="${styles.p}">${next}</p>
${data.updatePaymentUrl ? html`<p style="${styles.p}">${button('Update payment method', data.updatePaymentUrl)}</p>` : ''}`,
        text: ['We could not process your subscription order', '', `Dear ${data.firstName},`, '', intro, '', next, data.updatePaymentUrl ? `\nUpdate payment method: ${data.updatePaymentUrl}` : ''].join('\n'),
      };
    },
  }),

  chat_transcript: define({
    schema: ChatTranscriptData,
    sample: {
      firstName: 'Ada',
      startedAt: '2025-03-03T15:04:05.000Z',
      lines: [
        { at: '2025-03-03T15:04:05.000Z', from: 'agent', name: 'Sam', text: 'Hello, how can I help you today?' },
        { at: '2025-03-03T15:04:40.000Z', from: 'customer', name: 'You', text: 'When will the 2025 proof set ship?' },
        { at: '2025-03-03T15:05:10.000Z', from: 'agent', name: 'Sam', text: 'It ships on April 15.\nYou will get an email with tracking.' },
      ],
    },
    build: (data, brand) => {
      const who = (line: (typeof data.lines)[number]) => line.name ?? (line.from === 'customer' ? 'You' : line.from === 'agent' ? 'Customer service' : brand.storeName);
      const rows = data.lines.map(
        (line) => html`<tr>
<td style="${styles.td}white-space:nowrap;color:#5b6770;font-size:12px;">${line.at ? formatTime(line.at) : ''}</td>
<td style="${styles.td}white-space:nowrap;font-weight:bold;">${who(line)}</td>
<td style="${styles.td}">${multiline(line.text)}</td>
</tr>`,
      );
      const intro = `Here is the transcript of your chat with ${brand.storeName} customer service${data.startedAt ? ` on ${formatDate(data.startedAt)}` : ''}.`;
      return {
        subject: `Your chat with ${brand.storeName}`,
        preheader: intro,
        html: html`<h1 style="${styles.h1}">Your chat transcript</h1>
${data.firstName ? html`<p style="${styles.p}">Dear ${data.firstName},</p>` : ''}
<p style="${styles.p}">${intro}</p>
<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="${styles.table}">${rows}</table>`,
        text: [
          'Your chat transcript',
          '',
          data.firstName ? `Dear ${data.firstName},\n` : '',
          intro,
          '',
          ...data.lines.map((line) => `${line.at ? `[${formatTime(line.at)}] ` : ''}${who(line)}: ${line.text.replace(/\n/g, '\n    ')}`),
        ].join('\n'),
      };
    },
  }),

  marketing_newsletter: define({
    schema: MarketingNewsletterData,
    sample: {
      firstName: 'Ada',
      topic: 'news_releases',
      subject: 'New from the Mint: the 2025 Proof Set',
      html: '<p style="margin:0 0 14px 0;">The 2025 Proof Set is available now, with all five circulating quarters in proof finish.</p>',
      text: 'The 2025 Proof Set is available now, with all five circulating quarters in proof finish.',
      unsubscribeUrl: 'https://store.example.com/api/email/unsubscribe/sample-token',
    },
    build: (data, brand) => {
      const title = TOPIC_TITLES[data.topic];
      return {
        subject: data.subject,
        preheader: `${title} from ${brand.storeName}`,
        html: html`${data.firstName ? html`<p style="${styles.p}">Dear ${data.firstName},</p>` : ''}
${trustedHtml(data.html)}`,
        text: `${data.firstName ? `Dear ${data.firstName},\n\n` : ''}${data.text}`,
        footer: {
          html: html`<p style="margin:0 0 6px 0;">You receive ${title} because you subscribed to it at ${brand.storeName}.</p>
<p style="margin:0;">${link('Unsubscribe from ' + title, data.unsubscribeUrl)} with one click. Order and account emails are not affected.</p>`,
          text: `You receive ${title} because you subscribed to it at ${brand.storeName}.\nUnsubscribe from ${title}: ${data.unsubscribeUrl}\nOrder and account emails are not affected.`,
        },
      };
    },
  }),
} satisfies Record<EmailTemplateName, TemplateDefinition<z.ZodType>>;

function serviceFooter(brand: EmailBrand): { html: SafeHtml; text: string } {
  const line = `This is a service message from ${brand.storeName} about your order or account. It is sent regardless of your newsletter settings.`;
  return {
    html: html`<p style="margin:0 0 6px 0;">${line}</p><p style="margin:0;">Questions? Reply to this email and our customer service team will help.</p>`,
    text: `${line}\nQuestions? Reply to this email and our customer service team will help.`,
  };
}

/** Validates `data` against the template's schema (ValidationError naming each bad field) and renders HTML and text. */
export function renderEmail(template: EmailTemplateName, data: unknown, brand: EmailBrand): RenderedEmail {
  const definition = TEMPLATES[template] as TemplateDefinition<z.ZodType>;
  const parsed = parseOrThrow(definition.schema, data, `The data for the ${template} email is incomplete or invalid.`);
  const content = definition.build(parsed, brand);
  const footer = content.footer ?? serviceFooter(brand);
  const subject = oneLine(content.subject);
  return {
    template,
    category: categoryOf(template),
    subject,
    html: layoutHtml({ brand, title: subject, preheader: content.preheader, body: content.html, footer: footer.html }),
    text: layoutText({ brand, body: content.text, footer: footer.text }),
  };
}

export function sampleDataOf(template: EmailTemplateName): unknown {
  return TEMPLATES[template].sample;
}

/**
 * The data of an order email, from the order record: items, totals, brand and last four of the
 * card, and per shipment only the recipient's name and city/state (a gift recipient's street and
 * ZIP never reach the purchaser's mailbox). `extra` carries what the event adds (a decline code).
 */
export function orderEmailData(order: Pick<OrderDoc, 'orderNumber' | 'placedAt' | 'purchaser' | 'lines' | 'totals' | 'payment' | 'shipments'>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...extra,
    firstName: order.purchaser.firstName,
    orderNumber: order.orderNumber,
    placedAt: new Date(order.placedAt).toISOString(),
    lines: order.lines.map((line) => ({
      name: line.name,
      sku: line.sku,
      quantity: line.quantity,
      unitPriceCents: line.unitPriceCents,
      lineTotalCents: line.unitPriceCents * line.quantity,
    })),
    totals: {
      subtotalCents: order.totals.subtotalCents,
      taxCents: order.totals.taxCents,
      shippingCents: order.totals.shippingCents,
      totalCents: order.totals.totalCents,
    },
    card: { brand: order.payment.brand, last4: order.payment.last4 },
    shipments: order.shipments.map((shipment) => ({
      recipientName: shipment.recipient?.firstName
        ? `${shipment.recipient.firstName} ${shipment.recipient.lastName ?? ''}`.trim()
        : `${order.purchaser.firstName} ${order.purchaser.lastName}`,
      city: shipment.address?.city ?? '',
      state: shipment.address?.state ?? '',
      gift: shipment.gift === true,
      ...(shipment.carrier ? { carrier: shipment.carrier } : {}),
      ...(shipment.trackingNumber ? { trackingNumber: shipment.trackingNumber } : {}),
    })),
  };
}
