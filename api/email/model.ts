import { Schema, type Connection, type Model } from 'mongoose';
import { EMAIL_LOG_STATES, type EmailCategory, type EmailLogState } from './schema.ts';

/**
 * One document per email event. The UNIQUE index on eventId is what makes sending idempotent: a
 * worker claims the event by inserting (or, for a retry, by moving `retrying`/`failed`/`queued` to
 * `sending` under a Redis lock) before it talks to SMTP, so a second job for the same event finds the
 * claim and does nothing.
 */
export interface EmailLogDoc {
  _id: string;
  eventId: string;
  template: string;
  category: EmailCategory;
  state: EmailLogState;
  orderId: string | null;
  customerId: string | null;
  enrollmentId: string | null;
  campaignId: string | null;
  /** The recipient, once known (personal data: staff reads of it are audited). */
  to: string | null;
  subject: string | null;
  /** Derived from eventId, so a resend after a crash carries the same Message-ID. */
  messageId: string | null;
  attempts: number;
  /** Random id of the current claim: a worker whose claim was taken over cannot overwrite the new owner's result. */
  claimId: string | null;
  claimedAt: Date | null;
  sentAt: Date | null;
  smtpResponse: string | null;
  /** Every failed attempt, newest last (capped): the reason a dead-lettered email failed is the last one. */
  failures: { at: Date; attempt: number; code: string | null; message: string }[];
  skipReason: string | null;
  /** Content prepared at enqueue time (chat transcripts); removed once the email is sent. */
  content: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
}

const emailLogSchema = new Schema<EmailLogDoc>(
  {
    _id: { type: String, required: true },
    eventId: { type: String, required: true },
    template: { type: String, required: true },
    category: { type: String, enum: ['transactional', 'marketing'], required: true },
    state: { type: String, enum: EMAIL_LOG_STATES, required: true },
    orderId: { type: String, default: null },
    customerId: { type: String, default: null },
    enrollmentId: { type: String, default: null },
    campaignId: { type: String, default: null },
    to: { type: String, default: null },
    subject: { type: String, default: null },
    messageId: { type: String, default: null },
    attempts: { type: Number, default: 0 },
    claimId: { type: String, default: null },
    claimedAt: { type: Date, default: null },
    sentAt: { type: Date, default: null },
    smtpResponse: { type: String, default: null },
    failures: {
      type: [new Schema({ at: Date, attempt: Number, code: { type: String, default: null }, message: String }, { _id: false })],
      default: [],
    },
    skipReason: { type: String, default: null },
    content: { type: Schema.Types.Mixed, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'email_log', versionKey: false },
);
emailLogSchema.index({ eventId: 1 }, { unique: true });
emailLogSchema.index({ state: 1, updatedAt: -1 });
emailLogSchema.index({ campaignId: 1, state: 1 });
emailLogSchema.index({ orderId: 1 });
emailLogSchema.index({ customerId: 1 });

export type EmailLogModel = Model<EmailLogDoc>;

export function emailLogModel(connection: Connection): EmailLogModel {
  return (connection.models.EmailLog as EmailLogModel | undefined) ?? connection.model<EmailLogDoc>('EmailLog', emailLogSchema);
}

/** A newsletter campaign: its content lives here once, the jobs carry only the campaign and customer ids. */
export interface EmailCampaignDoc {
  _id: string;
  topic: string;
  subject: string;
  html: string;
  text: string;
  createdBy: string;
  createdAt: Date;
  queued: number;
  queuedAt: Date | null;
}

const emailCampaignSchema = new Schema<EmailCampaignDoc>(
  {
    _id: { type: String, required: true },
    topic: { type: String, required: true },
    subject: { type: String, required: true },
    html: { type: String, required: true },
    text: { type: String, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    queued: { type: Number, default: 0 },
    queuedAt: { type: Date, default: null },
  },
  { collection: 'email_campaigns', versionKey: false },
);
emailCampaignSchema.index({ createdAt: -1 });

export type EmailCampaignModel = Model<EmailCampaignDoc>;

export function emailCampaignModel(connection: Connection): EmailCampaignModel {
  return (connection.models.EmailCampaign as EmailCampaignModel | undefined) ?? connection.model<EmailCampaignDoc>('EmailCampaign', emailCampaignSchema);
}
