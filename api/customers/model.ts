import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { postalAddressSchema } from '../addresses/model.ts';
import type { PostalAddress } from '../addresses/schema.ts';
import {
  CONSENT_SOURCES,
  CONSENT_TYPES,
  CUSTOMER_KINDS,
  CUSTOMER_STATUSES,
  SECURITY_QUESTION_IDS,
  type ConsentSource,
  type ConsentType,
  type CustomerKind,
  type CustomerStatus,
  type NewsletterTopic,
  type SecurityQuestionId,
} from './schema.ts';

/**
 * One collection for registered and guest customers. FerretDB has no partial or sparse unique
 * indexes, so uniqueness is carried by two keys every document has:
 *
 * - `emailKey`: the email for a registered account, `guest:<email>` for the guest record of that
 *   email (one per address, updated at each checkout), `closed:<id>` once an account is closed
 *   (so the address can register again).
 * - `loginKey`: the login name, `guest:<id>` for guests, `closed:<id>` once closed.
 *
 * Neither form can collide with a real email or login name (both reject ":").
 */
export interface CustomerDoc {
  _id: string;
  kind: CustomerKind;
  status: CustomerStatus;
  emailKey: string;
  loginKey: string;
  firstName: string;
  lastName: string;
  email: string | null;
  phone: string | null;
  loginName: string | null;
  passwordHash: string | null;
  securityQuestionId: SecurityQuestionId | null;
  securityAnswerHash: string | null;
  birthMonth: number | null;
  addresses: { id: string; label: string; address: PostalAddress }[];
  emailTopics: Partial<Record<NewsletterTopic, boolean>>;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  passwordChangedAt: Date | null;
  /**
   * Optimistic concurrency: every change is written with a filter on the version it was computed
   * from, so two concurrent edits of the same customer cannot silently drop each other.
   */
  version: number;
}

const addressSchema = postalAddressSchema();

const savedAddressSchema = new Schema(
  {
    id: { type: String, required: true },
    label: { type: String, required: true },
    address: { type: addressSchema, required: true },
  },
  { _id: false },
);

const customerSchema = new Schema<CustomerDoc>(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true, enum: CUSTOMER_KINDS },
    status: { type: String, required: true, enum: CUSTOMER_STATUSES },
    emailKey: { type: String, required: true },
    loginKey: { type: String, required: true },
    firstName: { type: String, default: '' },
    lastName: { type: String, default: '' },
    email: { type: String, default: null },
    phone: { type: String, default: null },
    loginName: { type: String, default: null },
    /** scrypt (api/staff/password.ts). */
    passwordHash: { type: String, default: null },
    securityQuestionId: { type: String, enum: [...SECURITY_QUESTION_IDS, null], default: null },
    /** scrypt of the normalised answer: matched like a password, never shown. */
    securityAnswerHash: { type: String, default: null },
    birthMonth: { type: Number, min: 1, max: 12, default: null },
    addresses: { type: [savedAddressSchema], default: [] },
    emailTopics: { type: Schema.Types.Mixed, default: {} },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    closedAt: { type: Date, default: null },
    passwordChangedAt: { type: Date, default: null },
    version: { type: Number, required: true, default: 0 },
  },
  { collection: 'customers', versionKey: false, minimize: false, strict: 'throw' },
);
customerSchema.index({ emailKey: 1 }, { unique: true });
customerSchema.index({ loginKey: 1 }, { unique: true });
customerSchema.index({ email: 1 });
customerSchema.index({ phone: 1 });
customerSchema.index({ lastName: 1, firstName: 1 });
customerSchema.index({ 'addresses.address.postalCode': 1 });

/**
 * Consent evidence, append-only and separate from the customer: an insert never races another
 * writer (FerretDB updates of one document are not atomic under concurrency), and the history
 * outlives account closure. The current state of a consent is its newest record.
 */
export interface ConsentDoc {
  _id: Types.ObjectId;
  customerId: string;
  type: ConsentType;
  granted: boolean;
  at: Date;
  source: ConsentSource;
  /** Truncated (PIA C.2): /24 for IPv4, /48 for IPv6. Absent for phone, chat and admin changes. */
  ip: string | null;
  /** `staff:<username>` when a staff member recorded it on the customer's behalf. */
  recordedBy: string | null;
}

const consentSchema = new Schema<ConsentDoc>(
  {
    customerId: { type: String, required: true },
    type: { type: String, required: true, enum: CONSENT_TYPES },
    granted: { type: Boolean, required: true },
    at: { type: Date, required: true },
    source: { type: String, required: true, enum: CONSENT_SOURCES },
    ip: { type: String, default: null },
    recordedBy: { type: String, default: null },
  },
  { collection: 'customer_consents', versionKey: false, strict: 'throw' },
);
consentSchema.index({ customerId: 1, at: 1 });

export interface CustomerSessionDoc {
  /** Random session id (what the principal and logs carry); never the token. */
  _id: string;
  /** sha256 of the bearer token: a database reader cannot replay sessions. */
  tokenHash: string;
  customerId: string;
  createdAt: Date;
  /** Refreshed at most once a minute, so idle expiry errs early by up to a minute, never late. */
  lastSeenAt: Date;
  /** Absolute end, whatever the activity. */
  expiresAt: Date;
}

const customerSessionSchema = new Schema<CustomerSessionDoc>(
  {
    _id: { type: String, required: true },
    tokenHash: { type: String, required: true },
    customerId: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastSeenAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'customer_sessions', versionKey: false, strict: 'throw' },
);
customerSessionSchema.index({ tokenHash: 1 }, { unique: true });
customerSessionSchema.index({ customerId: 1 });
// No TTL index on FerretDB: ended sessions are deleted when seen and by purgeExpiredSessions().
customerSessionSchema.index({ expiresAt: 1 });

export function customerModel(conn: Connection): Model<CustomerDoc> {
  return (conn.models.Customer as Model<CustomerDoc> | undefined) ?? conn.model<CustomerDoc>('Customer', customerSchema);
}

export function customerConsentModel(conn: Connection): Model<ConsentDoc> {
  return (conn.models.CustomerConsent as Model<ConsentDoc> | undefined) ?? conn.model<ConsentDoc>('CustomerConsent', consentSchema);
}

export function customerSessionModel(conn: Connection): Model<CustomerSessionDoc> {
  return (conn.models.CustomerSession as Model<CustomerSessionDoc> | undefined) ?? conn.model<CustomerSessionDoc>('CustomerSession', customerSessionSchema);
}
