import { Schema, type Connection, type Model } from 'mongoose';
import { postalAddressSchema } from '../addresses/model.ts';
import type { PostalAddress } from '../addresses/schema.ts';
import { ALLOCATION_STATES, ENROLLMENT_STATUSES, RUN_STATUSES, RUN_TRIGGERS, SKIP_REASONS, type AllocationState, type EnrollmentStatus, type LinkAction, type RunStatus, type RunTrigger, type SkipReason } from './schema.ts';

export interface EnrollmentDoc {
  _id: string;
  customerId: string;
  program: string;
  status: EnrollmentStatus;
  quantity: number;
  shipTo: PostalAddress;
  billingAddress: PostalAddress;
  /** Keyed household of the ship-to address (duplicate-enrollment guard; checkout recomputes its own). */
  householdKey: string;
  cardToken: string;
  /** Brand, last four and expiry of the saved card, copied when it is chosen: a token's card never changes. */
  card: { brand: string; last4: string; expMonth: number; expYear: number };
  limits: { maxReleasesPerYear: number | null; endsAt: Date | null };
  attestation: { termsAccepted: true; ageConfirmed: true; at: Date };
  /**
   * `customerId:program:householdKey` while the enrollment is not cancelled, `cancelled:<id>` after:
   * the unique index makes a double-clicked "enroll" one enrollment without a partial index.
   */
  activeKey: string;
  createdAt: Date;
  updatedAt: Date;
  pausedAt: Date | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  lastFailure: { code: string; message: string; releaseSku: string; orderId: string | null; orderNumber: string | null; at: Date } | null;
  version: number;
}

export interface AllocationDoc {
  /** `<enrollmentId>:<releaseSku>`: the claim is an insert, so at most one can ever exist. */
  _id: string;
  enrollmentId: string;
  releaseSku: string;
  program: string;
  customerId: string;
  /** UTC year of the release, for the releases-per-year limit. */
  year: number;
  /** The run that claimed (or the link that skipped) it; null for a customer skip. */
  runId: string | null;
  state: AllocationState;
  skipReason: SkipReason | null;
  failure: { code: string; message: string } | null;
  orderId: string | null;
  orderNumber: string | null;
  claimedAt: Date;
  settledAt: Date | null;
  /** The order was later declined by the card issuer (recorded from the order's status change). */
  declinedAt: Date | null;
}

export interface RunDoc {
  _id: string;
  program: string;
  releaseSku: string;
  trigger: RunTrigger;
  requestedBy: string;
  retryFailed: boolean;
  status: RunStatus;
  total: number;
  done: number;
  failed: number;
  skipped: number;
  alreadySettled: number;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

export interface ProgramSettingsDoc {
  _id: string;
  noticeLeadDays: number;
  allocationLeadDays: number;
  schedule: { everyMinutes: number } | { cron: string } | null;
  updatedAt: Date;
  updatedBy: string;
}

/** One notice email per (enrollment, release), and what the customer answered through its links. */
export interface NoticeDoc {
  _id: string;
  enrollmentId: string;
  releaseSku: string;
  sentAt: Date;
  response: LinkAction | null;
  respondedAt: Date | null;
}

const address = postalAddressSchema();

const enrollmentSchema = new Schema<EnrollmentDoc>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true, index: true },
    program: { type: String, required: true },
    status: { type: String, enum: ENROLLMENT_STATUSES, required: true },
    quantity: { type: Number, required: true },
    shipTo: { type: address, required: true },
    billingAddress: { type: address, required: true },
    householdKey: { type: String, required: true },
    cardToken: { type: String, required: true },
    card: {
      brand: { type: String, required: true },
      last4: { type: String, required: true },
      expMonth: { type: Number, required: true },
      expYear: { type: Number, required: true },
    },
    limits: {
      maxReleasesPerYear: { type: Number, default: null },
      endsAt: { type: Date, default: null },
    },
    attestation: {
      termsAccepted: { type: Boolean, required: true },
      ageConfirmed: { type: Boolean, required: true },
      at: { type: Date, required: true },
    },
    activeKey: { type: String, required: true, unique: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    pausedAt: { type: Date, default: null },
    cancelledAt: { type: Date, default: null },
    cancelReason: { type: String, default: null },
    lastFailure: { type: Schema.Types.Mixed, default: null },
    version: { type: Number, default: 0 },
  },
  { collection: 'subscription_enrollments', versionKey: false },
);
// The generator walks a program's active enrollments; the admin list pages through them.
enrollmentSchema.index({ program: 1, status: 1 });

const allocationSchema = new Schema<AllocationDoc>(
  {
    _id: { type: String, required: true },
    enrollmentId: { type: String, required: true },
    releaseSku: { type: String, required: true },
    program: { type: String, required: true },
    customerId: { type: String, required: true },
    year: { type: Number, required: true },
    runId: { type: String, default: null },
    state: { type: String, enum: ALLOCATION_STATES, required: true },
    skipReason: { type: String, enum: [...SKIP_REASONS, null], default: null },
    failure: { type: Schema.Types.Mixed, default: null },
    orderId: { type: String, default: null },
    orderNumber: { type: String, default: null },
    claimedAt: { type: Date, required: true },
    settledAt: { type: Date, default: null },
    declinedAt: { type: Date, default: null },
  },
  { collection: 'subscription_allocations', versionKey: false },
);
// The exactly-once guarantee: one allocation per (enrollment, release), ever.
allocationSchema.index({ enrollmentId: 1, releaseSku: 1 }, { unique: true });
allocationSchema.index({ releaseSku: 1, state: 1 });
allocationSchema.index({ enrollmentId: 1, year: 1 });

const runSchema = new Schema<RunDoc>(
  {
    _id: { type: String, required: true },
    program: { type: String, required: true },
    releaseSku: { type: String, required: true },
    trigger: { type: String, enum: RUN_TRIGGERS, required: true },
    requestedBy: { type: String, required: true },
    retryFailed: { type: Boolean, default: false },
    status: { type: String, enum: RUN_STATUSES, required: true },
    total: { type: Number, default: 0 },
    done: { type: Number, default: 0 },
    failed: { type: Number, default: 0 },
    skipped: { type: Number, default: 0 },
    alreadySettled: { type: Number, default: 0 },
    attempts: { type: Number, default: 0 },
    lastError: { type: String, default: null },
    createdAt: { type: Date, required: true },
    startedAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'subscription_runs', versionKey: false },
);
runSchema.index({ program: 1, releaseSku: 1, createdAt: -1 });
runSchema.index({ createdAt: -1 });

const programSettingsSchema = new Schema<ProgramSettingsDoc>(
  {
    _id: { type: String, required: true },
    noticeLeadDays: { type: Number, required: true },
    allocationLeadDays: { type: Number, required: true },
    schedule: { type: Schema.Types.Mixed, default: null },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, required: true },
  },
  { collection: 'subscription_programs', versionKey: false },
);

const noticeSchema = new Schema<NoticeDoc>(
  {
    _id: { type: String, required: true },
    enrollmentId: { type: String, required: true },
    releaseSku: { type: String, required: true },
    sentAt: { type: Date, required: true },
    response: { type: String, default: null },
    respondedAt: { type: Date, default: null },
  },
  { collection: 'subscription_notices', versionKey: false },
);

export type EnrollmentModel = Model<EnrollmentDoc>;
export type AllocationModel = Model<AllocationDoc>;
export type RunModel = Model<RunDoc>;
export type ProgramSettingsModel = Model<ProgramSettingsDoc>;
export type NoticeModel = Model<NoticeDoc>;

export function enrollmentModel(connection: Connection): EnrollmentModel {
  return (connection.models.SubscriptionEnrollment as EnrollmentModel | undefined) ?? connection.model<EnrollmentDoc>('SubscriptionEnrollment', enrollmentSchema);
}
export function allocationModel(connection: Connection): AllocationModel {
  return (connection.models.SubscriptionAllocation as AllocationModel | undefined) ?? connection.model<AllocationDoc>('SubscriptionAllocation', allocationSchema);
}
export function runModel(connection: Connection): RunModel {
  return (connection.models.SubscriptionRun as RunModel | undefined) ?? connection.model<RunDoc>('SubscriptionRun', runSchema);
}
export function programSettingsModel(connection: Connection): ProgramSettingsModel {
  return (connection.models.SubscriptionProgram as ProgramSettingsModel | undefined) ?? connection.model<ProgramSettingsDoc>('SubscriptionProgram', programSettingsSchema);
}
export function noticeModel(connection: Connection): NoticeModel {
  return (connection.models.SubscriptionNotice as NoticeModel | undefined) ?? connection.model<NoticeDoc>('SubscriptionNotice', noticeSchema);
}

/** The allocation key of an enrollment and a release; neither part can contain a colon. */
export const allocationKey = (enrollmentId: string, releaseSku: string) => `${enrollmentId}:${releaseSku}`;
