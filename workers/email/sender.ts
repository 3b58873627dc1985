import { UnrecoverableError } from 'bullmq';
import type { Transporter } from 'nodemailer';
import type { z } from 'zod';
import { EmailTemplateNameSchema, isOrderTemplate, isSubscriptionTemplate, maskCardNumbers, type EmailTemplateName } from '../../api/email/schema.ts';
import type { EmailLogDoc } from '../../api/email/model.ts';
import type { Services } from '../../api/services.ts';
import { isAppError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { QueuePayloads } from '../../platform/queues.ts';
import { marketingEmail } from './marketing.ts';
import { orderEmailData, renderEmail, type RenderedEmail } from '../../api/email/templates.ts';

/**
 * Turns one email job into at most one email:
 *   claim the event on the email log  ->  work out recipient and data  ->  render  ->  SMTP  ->  mark sent.
 *
 * Exactly-once is impossible across SMTP and Mongo; this is at-least-once with one narrow window:
 * if the process dies after the SMTP server accepted the message but before `markSent` is written,
 * the claim stays `sending`, and once its lease ends a retry sends the email again. That second copy
 * carries the same Message-ID (derived from the event id), which lets receiving systems and mail
 * clients drop it as a duplicate. Every other repeat (a retried job, a relay that enqueued twice, two
 * workers racing) finds the claim and sends nothing.
 */

export type EmailJob = z.output<(typeof QueuePayloads)['email']>;

export type DeliveryOutcome =
  | { outcome: 'sent'; messageId: string }
  | { outcome: 'duplicate'; state: string }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'busy'; retryAt: Date };

export interface EmailSenderOptions {
  services: Pick<Services, 'email' | 'orders' | 'customers'>;
  /** Defaults to the platform's SMTP transport (services.core.mailer). */
  transport: Transporter;
  logger: Logger;
  /**
   * How long a claim is trusted to be in progress. After it, a worker that finds the claim assumes its
   * owner died and sends again. Must exceed the longest SMTP conversation.
   * @defaultValue 5 minutes
   */
  claimLeaseMs?: number;
  /**
   * How soon a job that found another worker sending the same event looks again.
   * @defaultValue 15 seconds
   */
  busyRecheckMs?: number;
}

export interface AttemptInfo {
  /** 1-based attempt number of the job. */
  attempt: number;
  /** No retry follows this attempt: a failure now is a dead letter. */
  final: boolean;
}

/** A failure that cannot succeed on retry: the data is wrong, the order is gone, or the server refused for good. */
export class PermanentEmailError extends Error {
  readonly code: string;

  constructor(message: string, code: string) {
    super(message);
    this.name = 'PermanentEmailError';
    this.code = code;
  }
}

export interface Composed {
  to: string;
  rendered: RenderedEmail;
  headers: Record<string, string>;
}

/** SMTP 5xx replies are permanent (unknown mailbox, policy refusal); 4xx and network errors are worth retrying. */
function isPermanentSmtpError(error: unknown): boolean {
  const code = (error as { responseCode?: number })?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

function errorCode(error: unknown): string | null {
  if (error instanceof PermanentEmailError) return error.code;
  if (isAppError(error)) return error.code;
  const e = error as { responseCode?: number; code?: string };
  if (typeof e?.responseCode === 'number') return `smtp_${e.responseCode}`;
  return typeof e?.code === 'string' ? e.code : null;
}

/**
 * The reason kept on the log and written to the logs. SMTP replies often quote the recipient
 * (`550 <ada@example.com>: unknown user`); the address is on the log entry already, so it is masked here.
 */
function errorMessage(error: unknown): string {
  const raw = isAppError(error) && error.fields?.length ? `${error.message} ${error.fields.map((f) => `${f.path}: ${f.message}`).join('; ')}` : error instanceof Error ? error.message : String(error);
  return maskCardNumbers(raw).replace(/([^\s<>"'@:;,]+)@([^\s<>"'@;,]+)/g, (_match, local: string, domain: string) => `${local[0] ?? ''}***@${domain}`);
}

export function createEmailSender(options: EmailSenderOptions) {
  const { services, transport, logger } = options;
  const { email } = services;
  const leaseMs = options.claimLeaseMs ?? 5 * 60_000;
  const busyRecheckMs = options.busyRecheckMs ?? 15_000;

  async function firstNameOf(customerId: string | undefined): Promise<{ firstName?: string; email?: string | null }> {
    if (!customerId) return {};
    try {
      const profile = await services.customers.getProfile(customerId);
      return { firstName: profile.firstName, email: profile.email };
    } catch (error) {
      if (isAppError(error) && error.kind === 'not_found') return {};
      throw error;
    }
  }

  /** Recipient, data and headers of the email, or a reason to send nothing. */
  async function compose(job: EmailJob, template: EmailTemplateName, entry: EmailLogDoc): Promise<Composed | { skip: string; to?: string }> {
    const brand = email.brand;
    if (isOrderTemplate(template)) {
      if (!job.orderId) throw new PermanentEmailError(`${template} needs an orderId`, 'missing_order');
      const order = await services.orders.get(job.orderId).catch((error: unknown) => {
        throw isAppError(error) && error.kind === 'not_found' ? new PermanentEmailError(`order ${job.orderId} not found`, 'order_not_found') : error;
      });
      // Order mail goes to the purchaser on the order, who cannot opt out of it (PIA).
      return { to: order.purchaser.email, rendered: renderEmail(template, orderEmailData(order, job.data), brand), headers: transactionalHeaders() };
    }
    if (isSubscriptionTemplate(template)) {
      const customer = await firstNameOf(job.customerId);
      const to = job.to ?? customer.email;
      if (!to) throw new PermanentEmailError(`${template} has no recipient: no "to" and no active customer ${job.customerId ?? '(none)'}`, 'no_recipient');
      const data = { ...(customer.firstName ? { firstName: customer.firstName } : {}), ...job.data };
      return { to, rendered: renderEmail(template, data, brand), headers: transactionalHeaders() };
    }
    if (template === 'chat_transcript') {
      const content = entry.content as { startedAt?: string; lines?: unknown[] } | null;
      const to = entry.to ?? job.to;
      if (!content?.lines || !to) throw new PermanentEmailError('chat transcript has no prepared content or recipient (send it with services.email.sendChatTranscript)', 'no_content');
      const customer = await firstNameOf(job.customerId);
      return { to, rendered: renderEmail(template, { ...content, ...(customer.firstName ? { firstName: customer.firstName } : {}) }, brand), headers: transactionalHeaders() };
    }
    const newsletter = await marketingEmail({ job, services, brand });
    if ('invalid' in newsletter) throw new PermanentEmailError(newsletter.message, newsletter.invalid);
    return newsletter;
  }

  function transactionalHeaders(): Record<string, string> {
    // RFC 3834: tells auto-responders (vacation replies) not to answer a machine.
    return { 'Auto-Submitted': 'auto-generated' };
  }

  async function deliver(job: EmailJob, attempt: AttemptInfo): Promise<DeliveryOutcome> {
    const parsedTemplate = EmailTemplateNameSchema.safeParse(job.template);
    if (!parsedTemplate.success) {
      await email.recordRejectedJob(job.eventId, job.template, `unknown email template "${job.template}"`);
      throw new UnrecoverableError(`unknown email template "${job.template}"`);
    }
    const template = parsedTemplate.data;
    const campaignId = typeof job.data.campaignId === 'string' ? job.data.campaignId : undefined;
    const claim = await email.claim({ eventId: job.eventId, template, orderId: job.orderId, customerId: job.customerId, enrollmentId: job.enrollmentId, campaignId }, { leaseMs });
    if (claim.status === 'done') return { outcome: 'duplicate', state: claim.state };
    if (claim.status === 'busy') return { outcome: 'busy', retryAt: new Date(Math.min(claim.leaseExpiresAt.getTime(), Date.now() + busyRecheckMs)) };

    let composed: Composed | undefined;
    try {
      const result = await compose(job, template, claim.entry);
      if ('skip' in result) {
        await email.markSkipped(job.eventId, claim.claimId, result.skip, result.to);
        return { outcome: 'skipped', reason: result.skip };
      }
      composed = result;
      const messageId = claim.entry.messageId ?? email.messageIdFor(job.eventId);
      const info = (await transport.sendMail({
        from: email.mailFrom,
        to: composed.to,
        subject: composed.rendered.subject,
        html: composed.rendered.html,
        text: composed.rendered.text,
        messageId,
        headers: { ...composed.headers, 'X-Mintdesk-Template': template },
      })) as { response?: string };
      await email.markSent(job.eventId, claim.claimId, { to: composed.to, subject: composed.rendered.subject, smtpResponse: info.response });
      return { outcome: 'sent', messageId };
    } catch (error) {
      const permanent = error instanceof PermanentEmailError || error instanceof UnrecoverableError || (isAppError(error) && error.kind === 'validation') || isPermanentSmtpError(error);
      const message = errorMessage(error);
      await email
        .markFailed(job.eventId, claim.claimId, { attempt: attempt.attempt, final: attempt.final || permanent, code: errorCode(error), message, to: composed?.to, subject: composed?.rendered.subject })
        .catch((markError: Error) => logger.error({ err: markError.message, eventId: job.eventId }, 'could not record the email failure on the log'));
      logger.warn({ eventId: job.eventId, template, attempt: attempt.attempt, final: attempt.final || permanent, code: errorCode(error), err: message }, 'email attempt failed');
      throw permanent ? new UnrecoverableError(message) : error;
    }
  }

  return { deliver };
}

export type EmailSender = ReturnType<typeof createEmailSender>;
