import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import type { Mailbox } from '../../platform/embedded/index.ts';
import { NotFoundError, parseOrThrow, ValidationError } from '../../platform/errors.ts';
import { withLock } from '../../platform/locks.ts';
import type { Logger } from '../../platform/logger.ts';
import { QueuePayloads, type Queues } from '../../platform/queues.ts';
import { listUnsubscribeHeaders, unsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from './unsubscribe.ts';
import { renderEmail, sampleDataOf, type RenderedEmail } from './templates.ts';
import type { EmailBrand } from './render.ts';
import type { AuditRecordInput } from '../audit/service.ts';
import { customerModel } from '../customers/model.ts';
import { maskEmail } from '../customers/normalize.ts';
import type { NewsletterTopic } from '../customers/schema.ts';
import type { CustomerService } from '../customers/service.ts';
import type { Principal } from '../http/principal.ts';
import { emailCampaignModel, emailLogModel, type EmailCampaignDoc, type EmailLogDoc } from './model.ts';
import {
  CampaignRequest,
  categoryOf,
  ChatTranscriptRequest,
  EmailLogQuery,
  EmailTemplateNameSchema,
  PreviewQuery,
  TOPIC_TITLES,
  type CampaignView,
  type EmailLogEntryView,
  type EmailLogPage,
  type EmailLogState,
  type EmailTemplateName,
} from './schema.ts';

/**
 * The email domain: the email log that makes sending idempotent, campaigns, one-click unsubscribe,
 * chat transcripts on request, template previews and the staff views (email log, embedded mailbox).
 * The sending itself is workers/email (sender.ts, worker.ts); this service never talks to SMTP.
 */

type StaffPrincipal = Extract<Principal, { type: 'staff' }>;

export interface EmailServiceDeps {
  mongo: Connection;
  redis: Redis;
  redisPrefix: string;
  clock: Clock;
  logger: Logger;
  queues: Queues;
  audit: { record(entry: AuditRecordInput): Promise<unknown> };
  customers: Pick<CustomerService, 'setPreferences' | 'mayEmailNewsletter' | 'getProfile'>;
  /** The embedded SMTP server's mailbox; undefined when SMTP_URL points at a real server. */
  mailbox: Mailbox | undefined;
  /** HMAC key of unsubscribe links (secrets.appSecret). */
  appSecret: string;
  brand: EmailBrand;
  /** From header (config.smtp.from); its domain also names our Message-IDs. */
  mailFrom: string;
  /** Mailbox for the `mailto:` List-Unsubscribe fallback; defaults to the From address, `null` leaves it out. */
  unsubscribeMailto?: string | null;
}

export type ClaimResult =
  | { status: 'claimed'; claimId: string; entry: EmailLogDoc }
  | { status: 'done'; state: EmailLogState }
  | { status: 'busy'; leaseExpiresAt: Date };

export interface ClaimInput {
  eventId: string;
  template: string;
  orderId?: string | undefined;
  customerId?: string | undefined;
  enrollmentId?: string | undefined;
  campaignId?: string | undefined;
}

export interface AttemptFailure {
  attempt: number;
  /** True when the queue will not try again (last attempt or permanent error): the email is dead-lettered. */
  final: boolean;
  code: string | null;
  message: string;
  to?: string | undefined;
  subject?: string | undefined;
}

const DUPLICATE_KEY = 11000;
const isDuplicateKey = (error: unknown): boolean => (error as { code?: number })?.code === DUPLICATE_KEY || /duplicate key/i.test(String((error as Error)?.message));
const KEEP_FAILURES = 10;
const FANOUT_BATCH = 500;

export function createEmailService(deps: EmailServiceDeps) {
  const { clock, logger, audit, customers } = deps;
  const Log = emailLogModel(deps.mongo);
  const Campaigns = emailCampaignModel(deps.mongo);
  const Customers = customerModel(deps.mongo);
  const lockKey = (eventId: string) => `${deps.redisPrefix}:lock:email:${eventId}`;

  const fromAddress = /<([^>]+)>/.exec(deps.mailFrom)?.[1] ?? deps.mailFrom.trim();
  const messageDomain = fromAddress.includes('@') ? fromAddress.slice(fromAddress.lastIndexOf('@') + 1) : 'mintdesk.local';
  const unsubscribeMailbox = deps.unsubscribeMailto === null ? undefined : (deps.unsubscribeMailto ?? (fromAddress.includes('@') ? fromAddress : undefined));

  let indexes: Promise<void> | undefined;
  /** The unique index must exist before the first claim, or two claims could both insert. */
  const ready = () => {
    indexes ??= Promise.all([Log.init(), Campaigns.init()]).then(() => undefined);
    indexes.catch(() => (indexes = undefined));
    return indexes;
  };

  function messageIdFor(eventId: string): string {
    return `<${createHash('sha256').update(`mintdesk-email:${eventId}`).digest('hex').slice(0, 40)}@${messageDomain}>`;
  }

  function view(doc: EmailLogDoc, options: { fullRecipient: boolean }): EmailLogEntryView {
    const last = doc.failures?.at(-1);
    return {
      eventId: doc.eventId,
      template: doc.template,
      category: doc.category,
      state: doc.state,
      to: doc.to ? (options.fullRecipient ? doc.to : maskEmail(doc.to)) : null,
      subject: doc.subject,
      messageId: doc.messageId,
      orderId: doc.orderId,
      customerId: doc.customerId,
      campaignId: doc.campaignId,
      attempts: doc.attempts,
      lastError: last ? { at: new Date(last.at).toISOString(), attempt: last.attempt, code: last.code ?? null, message: last.message } : null,
      skipReason: doc.skipReason,
      createdAt: new Date(doc.createdAt).toISOString(),
      updatedAt: new Date(doc.updatedAt).toISOString(),
      sentAt: doc.sentAt ? new Date(doc.sentAt).toISOString() : null,
    };
  }

  function newLogEntry(input: ClaimInput & { state: EmailLogState; now: Date }): EmailLogDoc {
    const template = input.template;
    return {
      _id: randomUUID(),
      eventId: input.eventId,
      template,
      category: EmailTemplateNameSchema.safeParse(template).success ? categoryOf(template as EmailTemplateName) : 'transactional',
      state: input.state,
      orderId: input.orderId ?? null,
      customerId: input.customerId ?? null,
      enrollmentId: input.enrollmentId ?? null,
      campaignId: input.campaignId ?? null,
      to: null,
      subject: null,
      messageId: messageIdFor(input.eventId),
      attempts: 0,
      claimId: null,
      claimedAt: null,
      sentAt: null,
      smtpResponse: null,
      failures: [],
      skipReason: null,
      content: null,
      createdAt: input.now,
      updatedAt: input.now,
    };
  }

  /** Applies a result to the entry only if `claimId` still owns it (a taken-over claim must not overwrite). */
  async function finish(eventId: string, claimId: string, change: (doc: EmailLogDoc) => Record<string, unknown>): Promise<boolean> {
    return withLock(deps.redis, lockKey(eventId), async () => {
      const doc = await Log.findOne({ eventId }).lean<EmailLogDoc>();
      if (!doc || doc.claimId !== claimId) {
        logger.warn({ eventId }, 'email claim was taken over before this worker finished; result not recorded');
        return false;
      }
      await Log.updateOne({ _id: doc._id }, { $set: { ...change(doc), updatedAt: clock() } });
      return true;
    });
  }

  async function audienceIds(topic: NewsletterTopic): Promise<AsyncIterable<{ _id: string }>> {
    // Read-only use of the customers collection: the topic flag and account status narrow the
    // audience; the full consent check (mayEmailNewsletter) runs again for each email at send time.
    return Customers.find({ status: 'active', [`emailTopics.${topic}`]: true }, { _id: 1 }).sort({ _id: 1 }).lean<{ _id: string }[]>().cursor({ batchSize: FANOUT_BATCH });
  }

  async function campaignView(doc: EmailCampaignDoc): Promise<CampaignView> {
    const groups = await Log.aggregate<{ _id: EmailLogState; count: number }>([{ $match: { campaignId: doc._id } }, { $group: { _id: '$state', count: { $sum: 1 } } }]);
    return {
      campaignId: doc._id,
      topic: doc.topic,
      subject: doc.subject,
      createdBy: doc.createdBy,
      createdAt: new Date(doc.createdAt).toISOString(),
      queued: doc.queued,
      progress: Object.fromEntries(groups.map((g) => [g._id, g.count])),
    };
  }

  function requireMailbox(): Mailbox {
    if (!deps.mailbox) {
      throw new NotFoundError('mailbox', 'mail.viewer_unavailable', 'The mail viewer shows mail caught by the embedded SMTP server; this installation sends through an external SMTP server (SMTP_URL).');
    }
    return deps.mailbox;
  }

  return {
    ready,
    brand: deps.brand,
    mailFrom: deps.mailFrom,
    messageIdFor,

    // --- the log, as the sender uses it ---

    /**
     * Claims an email event before anything is sent. The first claim inserts (the unique index on
     * eventId decides between racing workers). Later claims run under a Redis lock: an event that
     * was sent or skipped is done; one being sent by a live worker is busy until its lease ends;
     * otherwise (queued, retrying, failed, or a claim whose worker died) it is claimed again.
     */
    async claim(input: ClaimInput, options: { leaseMs: number }): Promise<ClaimResult> {
      await ready();
      const now = clock();
      const claimId = randomUUID();
      const entry = { ...newLogEntry({ ...input, state: 'sending', now }), attempts: 1, claimId, claimedAt: now };
      try {
        await Log.create(entry);
        return { status: 'claimed', claimId, entry };
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      return withLock(deps.redis, lockKey(input.eventId), async () => {
        const existing = await Log.findOne({ eventId: input.eventId }).lean<EmailLogDoc>();
        if (!existing) throw new Error(`email log entry ${input.eventId} vanished during its claim`);
        if (existing.state === 'sent' || existing.state === 'skipped') return { status: 'done', state: existing.state };
        const leaseEnds = existing.claimedAt ? new Date(new Date(existing.claimedAt).getTime() + options.leaseMs) : now;
        if (existing.state === 'sending' && leaseEnds > now) return { status: 'busy', leaseExpiresAt: leaseEnds };
        if (existing.state === 'sending') logger.warn({ eventId: input.eventId }, 'taking over an email claim whose worker stopped mid-send; the recipient may get it twice (same Message-ID)');
        const set = {
          state: 'sending' as const,
          claimId,
          claimedAt: now,
          updatedAt: now,
          attempts: existing.attempts + 1,
          // Ids the job knows but an earlier claim did not (a prepared transcript has no template run yet).
          ...(input.orderId && !existing.orderId ? { orderId: input.orderId } : {}),
          ...(input.customerId && !existing.customerId ? { customerId: input.customerId } : {}),
          ...(input.campaignId && !existing.campaignId ? { campaignId: input.campaignId } : {}),
          ...(existing.messageId ? {} : { messageId: messageIdFor(input.eventId) }),
        };
        await Log.updateOne({ _id: existing._id }, { $set: set });
        return { status: 'claimed', claimId, entry: { ...existing, ...set } as EmailLogDoc };
      });
    },

    /**
     * Sent is final. No lock on this hot path: the filter on claimId keeps a worker whose claim was
     * taken over from recording, and should the two writes interleave on FerretDB, both owners sent
     * the email (the documented duplicate window) and `sent` is the truth either way.
     */
    async markSent(eventId: string, claimId: string, sent: { to: string; subject: string; smtpResponse: string | undefined }): Promise<boolean> {
      // The prepared content (a chat transcript) has done its job: it is not kept once delivered.
      const result = await Log.updateOne(
        { eventId, claimId },
        { $set: { state: 'sent', sentAt: clock(), updatedAt: clock(), to: sent.to, subject: sent.subject, smtpResponse: sent.smtpResponse?.slice(0, 500) ?? null, content: null } },
      );
      if (result.matchedCount === 0) logger.warn({ eventId }, 'email claim was taken over before this worker finished; result not recorded');
      return result.matchedCount === 1;
    },

    async markSkipped(eventId: string, claimId: string, reason: string, to?: string): Promise<boolean> {
      return finish(eventId, claimId, () => ({ state: 'skipped', skipReason: reason, content: null, ...(to ? { to } : {}) }));
    },

    async markFailed(eventId: string, claimId: string, failure: AttemptFailure): Promise<boolean> {
      return finish(eventId, claimId, (doc) => ({
        state: failure.final ? 'failed' : 'retrying',
        failures: [...(doc.failures ?? []), { at: clock(), attempt: failure.attempt, code: failure.code, message: failure.message.slice(0, 1000) }].slice(-KEEP_FAILURES),
        ...(failure.to ? { to: failure.to } : {}),
        ...(failure.subject ? { subject: failure.subject } : {}),
      }));
    },

    /** A job whose payload could not even be parsed: it never runs, but admins see why on the log. */
    async recordRejectedJob(eventId: string, template: string, message: string): Promise<void> {
      await ready();
      const now = clock();
      const failure = { at: now, attempt: 1, code: 'invalid_payload', message: message.slice(0, 1000) };
      try {
        await Log.create({ ...newLogEntry({ eventId, template, state: 'failed', now }), failures: [failure] });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        await withLock(deps.redis, lockKey(eventId), async () => {
          await Log.updateOne({ eventId, state: { $nin: ['sent', 'skipped'] } }, { $set: { state: 'failed', updatedAt: now }, $push: { failures: failure } });
        });
      }
    },

    async entry(eventId: string): Promise<EmailLogDoc | undefined> {
      return (await Log.findOne({ eventId }).lean<EmailLogDoc>()) ?? undefined;
    },

    async campaign(campaignId: string): Promise<EmailCampaignDoc | undefined> {
      return (await Campaigns.findById(campaignId).lean<EmailCampaignDoc>()) ?? undefined;
    },

    /** Link and RFC 8058 headers of one recipient's newsletter. */
    unsubscribeFor(customerId: string, topic: NewsletterTopic): { url: string; headers: Record<string, string> } {
      const url = unsubscribeUrl(deps.brand.baseUrl, unsubscribeToken(deps.appSecret, { customerId, topic }));
      return { url, headers: listUnsubscribeHeaders({ url, mailto: unsubscribeMailbox ? { address: unsubscribeMailbox, subject: `unsubscribe ${topic}` } : undefined }) };
    },

    // --- requests from other modules ---

    /**
     * Emails a chat transcript (the console calls this when a customer asks for one). The lines are
     * masked again and kept on the email log entry until sent, so the job carries only ids.
     */
    async sendChatTranscript(input: unknown): Promise<{ eventId: string }> {
      const data = parseOrThrow(ChatTranscriptRequest, input);
      await ready();
      const now = clock();
      const eventId = randomUUID();
      const entry = newLogEntry({ eventId, template: 'chat_transcript', customerId: data.customerId, state: 'queued', now });
      await Log.create({ ...entry, to: data.to, content: { ...(data.startedAt ? { startedAt: data.startedAt } : {}), lines: data.lines } });
      try {
        await deps.queues.enqueue('email', { eventId, template: 'chat_transcript', ...(data.customerId ? { customerId: data.customerId } : {}), data: {} }, { jobId: eventId });
      } catch (error) {
        await Log.deleteOne({ eventId, state: 'queued' }).catch(() => undefined);
        throw error;
      }
      return { eventId };
    },

    // --- marketing ---

    /**
     * Stores the campaign and enqueues one job per subscriber of the topic (ids only). The event id
     * is campaign + customer, so a customer never gets the same campaign twice.
     */
    async createCampaign(actor: StaffPrincipal, input: unknown): Promise<CampaignView> {
      const data = parseOrThrow(CampaignRequest, input);
      await ready();
      const now = clock();
      const campaign: EmailCampaignDoc = { _id: randomUUID(), topic: data.topic, subject: data.subject, html: data.html, text: data.text, createdBy: actor.username, createdAt: now, queued: 0, queuedAt: null };
      await Campaigns.create(campaign);
      const queue = deps.queues.queue('email');
      let batch: { name: string; data: unknown; opts: { jobId: string } }[] = [];
      let queued = 0;
      const flush = async () => {
        if (!batch.length) return;
        await queue.addBulk(batch);
        queued += batch.length;
        batch = [];
      };
      for await (const { _id: customerId } of await audienceIds(data.topic)) {
        const eventId = `campaign-${campaign._id}-${customerId}`;
        const payload = QueuePayloads.email.parse({ eventId, template: 'marketing_newsletter', customerId, data: { campaignId: campaign._id } });
        batch.push({ name: 'email', data: payload, opts: { jobId: eventId } });
        if (batch.length >= FANOUT_BATCH) await flush();
      }
      await flush();
      await Campaigns.updateOne({ _id: campaign._id }, { $set: { queued, queuedAt: clock() } });
      await audit.record({ actor, action: 'email_campaign.create', resource: { type: 'email_campaign', id: campaign._id }, outcome: 'success', details: { topic: data.topic, queued } });
      logger.info({ campaignId: campaign._id, topic: data.topic, queued }, 'newsletter campaign queued');
      return campaignView({ ...campaign, queued, queuedAt: clock() });
    },

    async getCampaign(campaignId: string): Promise<CampaignView> {
      const doc = /^[0-9a-f-]{36}$/i.test(campaignId) ? await Campaigns.findById(campaignId).lean<EmailCampaignDoc>() : null;
      if (!doc) throw new NotFoundError('campaign', 'email.campaign_not_found', 'No such campaign.');
      return campaignView(doc);
    },

    /** What an unsubscribe link is for, or undefined when the token is not genuine. */
    describeUnsubscribe(token: string): { topic: NewsletterTopic; title: string } | undefined {
      const subject = verifyUnsubscribeToken(deps.appSecret, token);
      return subject ? { topic: subject.topic, title: TOPIC_TITLES[subject.topic] } : undefined;
    },

    /**
     * One-click unsubscribe: the topic is switched off through the customers service at once. A
     * closed account has no subscriptions left, which is the outcome asked for, so it succeeds too.
     */
    async unsubscribe(token: string, ctx: { ip?: string | undefined }): Promise<{ topic: NewsletterTopic; title: string }> {
      const subject = verifyUnsubscribeToken(deps.appSecret, token);
      if (!subject) throw new ValidationError('This unsubscribe link is not valid. Use the link from the email, or manage your subscriptions in your account.', [], 'email.unsubscribe_invalid');
      try {
        await customers.setPreferences(subject.customerId, { emailTopics: { [subject.topic]: false } }, { source: 'web', ip: ctx.ip });
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
      logger.info({ customerId: subject.customerId, topic: subject.topic }, 'newsletter unsubscribe by one-click link');
      return { topic: subject.topic, title: TOPIC_TITLES[subject.topic] };
    },

    // --- admin ---

    templates(): EmailTemplateName[] {
      return [...EmailTemplateNameSchema.options];
    },

    preview(template: string, query: unknown): { format: 'html' | 'text'; rendered: RenderedEmail } {
      const name = EmailTemplateNameSchema.safeParse(template);
      if (!name.success) throw new NotFoundError('email_template', 'email.template_not_found', 'No such email template.');
      const { format } = parseOrThrow(PreviewQuery, query);
      return { format, rendered: renderEmail(name.data, sampleDataOf(name.data), deps.brand) };
    },

    /** Staff list of the log; recipients masked, and the read is audited (ids of customers and orders). */
    async listLog(actor: StaffPrincipal, rawQuery: unknown): Promise<EmailLogPage> {
      const query = parseOrThrow(EmailLogQuery, rawQuery);
      const filter: Record<string, unknown> = {};
      if (query.state) filter.state = query.state;
      if (query.template) filter.template = query.template;
      if (query.campaignId) filter.campaignId = query.campaignId;
      const [total, docs] = await Promise.all([
        Log.countDocuments(filter),
        Log.find(filter, { content: 0 })
          .sort({ updatedAt: -1, _id: 1 })
          .skip((query.page - 1) * query.pageSize)
          .limit(query.pageSize)
          .lean<EmailLogDoc[]>(),
      ]);
      await audit.record({ actor, action: 'email_log.list', resource: { type: 'email_log' }, outcome: 'success', details: { state: query.state ?? null, template: query.template ?? null, returned: docs.length, page: query.page } });
      return { items: docs.map((doc) => view(doc, { fullRecipient: false })), page: query.page, pageSize: query.pageSize, total };
    },

    /** One entry with the full recipient address: a read of personal data, audited before it is returned. */
    async getLogEntry(actor: StaffPrincipal, eventId: string): Promise<EmailLogEntryView> {
      const doc = eventId.length <= 200 ? await Log.findOne({ eventId }, { content: 0 }).lean<EmailLogDoc>() : null;
      if (!doc) throw new NotFoundError('email', 'email.log_not_found', 'No such email.');
      await audit.record({ actor, action: 'email_log.read', resource: { type: 'email_log', id: eventId }, outcome: 'success', details: { template: doc.template, ...(doc.customerId ? { customerId: doc.customerId } : {}), ...(doc.orderId ? { orderId: doc.orderId } : {}) } });
      return view(doc, { fullRecipient: true });
    },

    /** The embedded SMTP server's catch-all mailbox (development and tests). Recipients are personal data: audited. */
    async listMail(actor: StaffPrincipal) {
      const mailbox = requireMailbox();
      const items = mailbox.list().slice(0, 200).map((mail) => ({ id: mail.id, receivedAt: mail.receivedAt.toISOString(), from: mail.from, to: mail.to, subject: mail.subject }));
      await audit.record({ actor, action: 'mail.list', resource: { type: 'mail' }, outcome: 'success', details: { returned: items.length } });
      return { items };
    },

    async getMail(actor: StaffPrincipal, id: string) {
      const mail = requireMailbox().get(id);
      if (!mail) throw new NotFoundError('mail', 'mail.not_found', 'No such message.');
      await audit.record({ actor, action: 'mail.read', resource: { type: 'mail', id }, outcome: 'success' });
      return {
        id: mail.id,
        receivedAt: mail.receivedAt.toISOString(),
        from: mail.from,
        to: mail.to,
        envelopeTo: mail.envelopeTo,
        subject: mail.subject,
        headers: mail.headers,
        text: mail.text,
        html: mail.html,
      };
    },
  };
}

export type EmailService = ReturnType<typeof createEmailService>;
