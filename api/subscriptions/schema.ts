import { z } from 'zod';
import { freeText } from '../http/free-text.ts';
import { addressResponseFields, PostalAddress } from '../addresses/schema.ts';
import { instantSchema, programCodeSchema, skuSchema } from '../catalog/schema.ts';
import { Attestation } from '../orders/schema.ts';

/**
 * Subscription programs ("enrollments"): a customer asks for every release of a program (each new
 * annual proof set, ...) to be ordered for them with a saved card and a ship-to address. Shapes
 * shared by the API, the storefront, the console and the workers; zod only, no Node imports.
 */

export const ENROLLMENT_STATUSES = ['active', 'paused', 'cancelled'] as const;
export type EnrollmentStatus = (typeof ENROLLMENT_STATUSES)[number];

/**
 * One (enrollment, release) pair. `claimed` is taken before checkout is called, so a generator that
 * dies leaves a claim behind rather than an unknown; the next run settles it.
 */
export const ALLOCATION_STATES = ['claimed', 'ordered', 'failed', 'skipped'] as const;
export type AllocationState = (typeof ALLOCATION_STATES)[number];

/** Why a release was skipped for an enrollment. */
export const SKIP_REASONS = ['customer_skip', 'yearly_limit', 'account_closed'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export const LINK_ACTIONS = ['confirm', 'skip', 'cancel'] as const;
export type LinkAction = (typeof LINK_ACTIONS)[number];

export const RUN_STATUSES = ['queued', 'running', 'completed', 'interrupted', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const RUN_TRIGGERS = ['admin', 'schedule', 'benchmark'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** Units of each release; checkout still applies the product's household limit. */
export const MAX_UNITS_PER_RELEASE = 10;
export const DEFAULT_NOTICE_LEAD_DAYS = 7;

export const enrollmentIdSchema = z.uuid('Not an enrollment id.');
export const cardTokenSchema = z.string().min(10).max(80);

const quantitySchema = z.number().int('Whole units only.').min(1).max(MAX_UNITS_PER_RELEASE);
const maxReleasesPerYearSchema = z.number().int().min(1).max(52).nullable();
const endsAtSchema = instantSchema.nullable();

/** How much and how long: units per release (`quantity`), releases per calendar year, an end date. */
export const EnrollmentLimits = z.strictObject({
  /** At most this many releases of the program are ordered per calendar year (UTC, by release date); null for all. */
  maxReleasesPerYear: maxReleasesPerYearSchema.default(null),
  /** Releases after this instant are not ordered; null for open-ended. */
  endsAt: endsAtSchema.default(null),
});
export type EnrollmentLimits = z.infer<typeof EnrollmentLimits>;

export const EnrollRequest = z.strictObject({
  program: programCodeSchema,
  /** Units of each release. */
  quantity: quantitySchema,
  shipTo: PostalAddress,
  /** Defaults to the ship-to address. */
  billingAddress: PostalAddress.optional(),
  /** One of the customer's saved cards (GET /api/customers/me/cards); charged without a CVV as a card on file. */
  cardToken: cardTokenSchema,
  limits: EnrollmentLimits.default({ maxReleasesPerYear: null, endsAt: null }),
  /** The terms and 18+ warranty, given once here and carried to every order of the enrollment. */
  attestation: Attestation,
});
export type EnrollRequest = z.infer<typeof EnrollRequest>;
export type EnrollInput = z.input<typeof EnrollRequest>;

export const ChangeEnrollmentRequest = z
  .strictObject({
    quantity: quantitySchema.optional(),
    shipTo: PostalAddress.optional(),
    billingAddress: PostalAddress.optional(),
    cardToken: cardTokenSchema.optional(),
    limits: z.strictObject({ maxReleasesPerYear: maxReleasesPerYearSchema.optional(), endsAt: endsAtSchema.optional() }).optional(),
  })
  .refine((change) => Object.values(change).some((value) => value !== undefined), { message: 'Send at least one field to change.' });
export type ChangeEnrollmentRequest = z.infer<typeof ChangeEnrollmentRequest>;

export const CancelEnrollmentRequest = z.strictObject({ reason: freeText(200, { min: 1 }).optional() });

export const EnrollmentParams = z.strictObject({ id: enrollmentIdSchema });

const addressView = z.object(addressResponseFields);

/** What the customer (and, audited, an admin) sees of an enrollment. Never a card number. */
export const EnrollmentView = z.object({
  id: z.string(),
  program: z.string(),
  status: z.enum(ENROLLMENT_STATUSES),
  quantity: z.number().int(),
  shipTo: addressView,
  billingAddress: addressView,
  card: z.object({ cardToken: z.string(), brand: z.string(), last4: z.string(), expMonth: z.number().int(), expYear: z.number().int() }),
  limits: z.object({ maxReleasesPerYear: z.number().int().nullable(), endsAt: z.string().nullable() }),
  createdAt: z.string(),
  updatedAt: z.string(),
  pausedAt: z.string().nullable(),
  cancelledAt: z.string().nullable(),
  lastFailure: z.object({ code: z.string(), message: z.string(), releaseSku: z.string(), orderNumber: z.string().nullable(), at: z.string() }).nullable(),
});
export type EnrollmentView = z.infer<typeof EnrollmentView>;

// --- signed links ---

export const LinkTokenParams = z.strictObject({ token: z.string().min(20).max(512) });

export const LinkPreview = z.object({
  action: z.enum(LINK_ACTIONS),
  /** What POSTing the link will do, in words for the page. */
  description: z.string(),
  program: z.string(),
  release: z.object({ sku: z.string(), name: z.string(), releaseAt: z.string() }),
  quantity: z.number().int(),
  enrollmentStatus: z.enum(ENROLLMENT_STATUSES),
  /** The allocation of this release for the enrollment, if the generator or a skip already made one. */
  allocation: z.enum(ALLOCATION_STATES).nullable(),
  expiresAt: z.string(),
});
export type LinkPreview = z.infer<typeof LinkPreview>;

export const LinkResult = z.object({
  action: z.enum(LINK_ACTIONS),
  outcome: z.enum(['confirmed', 'skipped', 'cancelled', 'already_done']),
  message: z.string(),
});
export type LinkResult = z.infer<typeof LinkResult>;

// --- staff ---

export const ProgramParams = z.strictObject({ program: programCodeSchema });
export const ReleaseParams = z.strictObject({ program: programCodeSchema, sku: skuSchema });
export const RunParams = z.strictObject({ runId: z.string().regex(/^[A-Za-z0-9_-]{8,100}$/, 'Not a run id.') });
export const StaffEnrollmentParams = z.strictObject({ id: enrollmentIdSchema });

const queryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const StaffEnrollmentQuery = z.strictObject({
  status: z.enum(ENROLLMENT_STATUSES).optional(),
  page: queryInt(1, 100_000).default(1),
  pageSize: queryInt(1, 100).default(25),
});

export const RunQuery = z.strictObject({
  program: programCodeSchema.optional(),
  releaseSku: skuSchema.optional(),
  page: queryInt(1, 100_000).default(1),
  pageSize: queryInt(1, 100).default(25),
});

export const GenerateRequest = z.strictObject({
  /** Place orders again for enrollments whose earlier attempt at this release failed (card replaced, stock added). */
  retryFailed: z.boolean().default(false),
});

/**
 * A program's schedule: notices `noticeLeadDays` before each release; orders generated from
 * `allocationLeadDays` before the release until it opens, checked on a cron or fixed interval.
 */
export const ProgramSettingsInput = z
  .strictObject({
    noticeLeadDays: z.number().int().min(0).max(60).default(DEFAULT_NOTICE_LEAD_DAYS),
    allocationLeadDays: z.number().int().min(0).max(60).default(1),
    schedule: z
      .union([
        z.strictObject({ everyMinutes: z.number().int().min(5).max(7 * 24 * 60) }),
        z.strictObject({ cron: z.string().trim().min(9).max(100).regex(/^[\d*/,\- ]+$/, 'Use a five-field cron expression, e.g. "0 * * * *".') }),
      ])
      .nullable()
      .default(null),
  })
  .refine((settings) => settings.allocationLeadDays <= settings.noticeLeadDays, { path: ['allocationLeadDays'], message: 'Orders are generated after the notice goes out: allocationLeadDays must not exceed noticeLeadDays.' });
export type ProgramSettingsInput = z.input<typeof ProgramSettingsInput>;
export type ProgramSettings = z.output<typeof ProgramSettingsInput>;

export const RunView = z.object({
  runId: z.string(),
  program: z.string(),
  releaseSku: z.string(),
  trigger: z.enum(RUN_TRIGGERS),
  requestedBy: z.string(),
  retryFailed: z.boolean(),
  status: z.enum(RUN_STATUSES),
  /** Eligible enrollments counted when the run (re)started. */
  total: z.number().int(),
  /** Orders placed (or found placed after a crash) by this run. */
  done: z.number().int(),
  failed: z.number().int(),
  /** Skipped by this run: the customer skipped, yearly limit reached, account closed. */
  skipped: z.number().int(),
  /** Settled by an earlier run of the same release; nothing to do. */
  alreadySettled: z.number().int(),
  remaining: z.number().int(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  updatedAt: z.string(),
});
export type RunView = z.infer<typeof RunView>;
