import { z } from 'zod';

/**
 * Public shapes of the audit trail (PIA E/F: staff access to personal data is logged and
 * reviewed read-only by those who audit). No Node imports here.
 */

export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Who acted, as recorded: never a session token, never a name or email beyond the staff username. */
export interface AuditActor {
  type: 'staff' | 'customer' | 'system';
  /** staffUserId, customerId or the system component. */
  id: string;
  username?: string;
  role?: string;
}

export interface AuditResource {
  /** customer, order, recording, report, chat, audit, staff_user, route, ... */
  type: string;
  id?: string;
}

/** JSON-like values only: details hold ids, codes and counts, never personal data or card data. */
export type AuditDetailValue = string | number | boolean | null | AuditDetailValue[] | { [key: string]: AuditDetailValue };
export type AuditDetails = Record<string, AuditDetailValue>;

export interface AuditEntryView {
  seq: number;
  at: string;
  actor: AuditActor;
  action: string;
  resource: AuditResource;
  outcome: AuditOutcome;
  ip: string | null;
  details: AuditDetails | null;
  prevHash: string;
  hash: string;
  /** HMAC of the hash under AUDIT_HMAC_KEY (null on entries written before the trail was anchored). */
  mac: string | null;
}

export const auditActionSchema = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'expected a dotted action such as customer.read');
export const auditResourceTypeSchema = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'expected a resource type such as customer');

const optionalText = (max: number) =>
  z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().min(1).max(max).optional());
const optionalDate = z.preprocess((v) => (v === '' ? undefined : v), z.coerce.date().optional());

export const auditQuerySchema = z
  .strictObject({
    /** Staff username or the actor's id. */
    actor: optionalText(100),
    resourceType: z.preprocess((v) => (v === '' ? undefined : v), auditResourceTypeSchema.optional()),
    resourceId: optionalText(200),
    action: z.preprocess((v) => (v === '' ? undefined : v), auditActionSchema.optional()),
    outcome: z.preprocess((v) => (v === '' ? undefined : v), z.enum(AUDIT_OUTCOMES).optional()),
    from: optionalDate,
    to: optionalDate,
    page: z.coerce.number().int().min(1).max(100_000).default(1),
    pageSize: z.coerce.number().int().min(1).max(200).default(50),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { path: ['to'], message: 'must not be before from' });
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export interface AuditPage {
  entries: AuditEntryView[];
  page: number;
  pageSize: number;
  total: number;
}

export interface ChainVerification {
  ok: boolean;
  /** Entries whose hash and link were checked. */
  checked: number;
  firstSeq?: number;
  lastSeq?: number;
  /** Hash of the newest entry. */
  headHash?: string;
  firstBrokenSeq?: number;
  reason?: 'hash_mismatch' | 'mac_missing' | 'mac_mismatch' | 'missing_seq' | 'broken_link' | 'unanchored_start' | 'checkpoint_mismatch' | 'checkpoint_invalid' | 'truncated';
  /** The signed checkpoints of the head (S3) the trail was checked against. */
  checkpoints?: { checked: number; latestSeq?: number; latestAt?: string };
}

export interface AuditCheckpointResult {
  /** False when the head has not moved since the last checkpoint, or verification failed. */
  written: boolean;
  seq?: number;
  key?: string;
  lock?: 'COMPLIANCE' | 'GOVERNANCE' | 'none';
  /** Set when the chain since the last checkpoint does not verify: nothing was signed. */
  withheld?: { firstBrokenSeq?: number; reason?: ChainVerification['reason'] };
}
