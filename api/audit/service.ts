import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import { BusinessRuleError, ServiceUnavailableError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Principal } from '../http/principal.ts';
import { deriveAuditKeys, entryHash, entryMac, GENESIS_HASH, normaliseDetails, type ChainFields } from './chain.ts';
import { signCheckpoint, type AuditCheckpoint, type CheckpointStore } from './checkpoints.ts';
import { auditModel, type AuditEntryDoc } from './model.ts';
import {
  auditActionSchema,
  auditResourceTypeSchema,
  type AuditActor,
  type AuditCheckpointResult,
  type AuditEntryView,
  type AuditOutcome,
  type AuditPage,
  type AuditQuery,
  type ChainVerification,
} from './schema.ts';
import { PURGE_ACTION, verifyChainOf, verifySinceCheckpoint } from './verify.ts';

/**
 * The audit trail (PIA E/F): who did what to which record, append-only and tamper-evident.
 *
 * Appends: seq n+1 is taken by inserting it under a UNIQUE index on seq, so two processes can
 * never both write seq n+1; the loser re-reads the head and retries. Within a process appends run
 * one after another on a promise chain (and remember the head), so a burst of requests costs one
 * insert each instead of a storm of duplicate-key retries. FerretDB has no transactions and its
 * single-document updates are not atomic under concurrency; this design needs neither.
 *
 * There is deliberately no update or delete path except `purgeOlderThan`, which only removes a
 * prefix older than the retention period and records that it did (see verify.ts).
 *
 * Anchors (chain.ts, checkpoints.ts): each entry carries an HMAC of its hash under
 * AUDIT_HMAC_KEY, which the database never holds, and `checkpoint()` (run by the workers'
 * maintenance loop) signs the head into S3 and the log, where the application cannot rewrite it.
 */
export interface AuditRecordInput {
  actor: Principal;
  /** Dotted verb, e.g. `customer.read`, `staff.login`, `access.denied`. */
  action: string;
  resource: { type: string; id?: string };
  outcome: AuditOutcome;
  /** Defaults to the principal's ip. */
  ip?: string;
  /** Ids, codes and counts only: never personal data values or card data. */
  details?: Record<string, unknown>;
}

export interface AuditService {
  /** Appends one entry; rejects (ServiceUnavailableError `audit.unavailable`) if it cannot be stored. */
  record(input: AuditRecordInput): Promise<{ seq: number; hash: string }>;
  /** Newest first, filtered and paginated. Callers audit the read themselves (the route does). */
  query(query: AuditQuery): Promise<AuditPage>;
  /** Checks hashes, links and MACs of every entry, and the entries against every signed checkpoint. */
  verifyChain(): Promise<ChainVerification>;
  /**
   * Signs the current head into the checkpoint store and the log, after verifying the entries
   * since the previous checkpoint; writes nothing when the head has not moved or does not verify.
   */
  checkpoint(): Promise<AuditCheckpointResult>;
  /**
   * Deletes entries older than `before`, refusing any date younger than the retention period.
   * The newest entry is always kept. Records an `audit.purge` entry that anchors the oldest kept
   * entry so `verifyChain` still passes.
   */
  purgeOlderThan(before: Date, actor?: Principal): Promise<{ purged: number; firstKeptSeq: number | null; markerSeq: number | null }>;
  /** The latest date `purgeOlderThan` accepts now. */
  retentionCutoff(): Date;
}

export interface AuditServiceDeps {
  mongo: Connection;
  clock: Clock;
  logger: Logger;
  /** Minimum retention (config.audit.retentionMonths); default 12. */
  retentionMonths?: number;
  /** AUDIT_HMAC_KEY (secrets.auditHmacKey): keys the entry MACs and checkpoint signatures. */
  hmacKey: string;
  /** Where signed checkpoints of the head go (S3); without it verifyChain checks MACs only. */
  checkpoints?: CheckpointStore;
}

const MAX_APPEND_ATTEMPTS = 100;
const DUPLICATE_KEY = 11000;

export function actorOf(principal: Principal): AuditActor {
  if (principal.type === 'staff') return { type: 'staff', id: principal.staffUserId, username: principal.username, role: principal.role };
  if (principal.type === 'customer') return { type: 'customer', id: principal.customerId };
  return { type: 'system', id: principal.component };
}

/** Same day-of-month `months` earlier, clamped to the month's last day (31 March - 1 month = 28/29 February). */
export function monthsBefore(date: Date, months: number): Date {
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - months, 1, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  return target;
}

export function toAuditView(doc: AuditEntryDoc): AuditEntryView {
  return {
    seq: doc.seq,
    at: doc.at.toISOString(),
    actor: {
      type: doc.actor.type,
      id: doc.actor.id,
      ...(doc.actor.username ? { username: doc.actor.username } : {}),
      ...(doc.actor.role ? { role: doc.actor.role } : {}),
    },
    action: doc.action,
    resource: { type: doc.resource.type, ...(doc.resource.id ? { id: doc.resource.id } : {}) },
    outcome: doc.outcome,
    ip: doc.ip ?? null,
    details: doc.details ?? null,
    prevHash: doc.prevHash,
    hash: doc.hash,
    mac: doc.mac ?? null,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createAuditService(deps: AuditServiceDeps): AuditService {
  const { clock, logger } = deps;
  const retentionMonths = deps.retentionMonths ?? 12;
  const keys = deriveAuditKeys(deps.hmacKey);
  const Entries = auditModel(deps.mongo);
  /** The last checkpoint this process wrote or read: the next one verifies only the entries after it. */
  let lastCheckpoint: Pick<AuditCheckpoint, 'seq' | 'hash'> | undefined;
  // The unique index on seq must exist before the first append, or concurrent appends could both win.
  let indexes: Promise<unknown> | undefined;
  const ready = () => (indexes ??= Entries.init().catch((error: unknown) => {
    indexes = undefined;
    throw error;
  }));

  let head: { seq: number; hash: string } | undefined;
  let tail: Promise<unknown> = Promise.resolve();

  async function readHead(): Promise<{ seq: number; hash: string }> {
    const last = await Entries.findOne({}, { seq: 1, hash: 1 }).sort({ seq: -1 }).lean<Pick<AuditEntryDoc, 'seq' | 'hash'>>();
    return last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  async function append(fields: Omit<ChainFields, 'seq' | 'prevHash'>): Promise<{ seq: number; hash: string }> {
    await ready();
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt += 1) {
      const previous = head ?? (await readHead());
      const chained: ChainFields = { ...fields, seq: previous.seq + 1, prevHash: previous.hash };
      const hash = entryHash(chained);
      // Written with the driver so the stored document is exactly what was hashed (no casting, no defaults).
      const doc: Record<string, unknown> = {
        seq: chained.seq,
        at: chained.at,
        actor: chained.actor,
        action: chained.action,
        resource: chained.resource,
        outcome: chained.outcome,
        prevHash: chained.prevHash,
        hash,
        mac: entryMac(keys, hash),
      };
      if (chained.ip) doc.ip = chained.ip;
      if (chained.details) doc.details = chained.details;
      try {
        await Entries.collection.insertOne(doc);
        head = { seq: chained.seq, hash };
        return head;
      } catch (error) {
        head = undefined;
        if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
        // Another process took this seq: re-read the head, after a short jittered pause under contention.
        if (attempt > 2) await sleep(Math.min(50, attempt * 2) * Math.random());
      }
    }
    throw new Error(`could not append to the audit trail after ${MAX_APPEND_ATTEMPTS} attempts`);
  }

  function build(input: AuditRecordInput): Omit<ChainFields, 'seq' | 'prevHash'> {
    auditActionSchema.parse(input.action);
    auditResourceTypeSchema.parse(input.resource.type);
    if (input.resource.id !== undefined && (typeof input.resource.id !== 'string' || input.resource.id.length > 200)) {
      throw new TypeError('audit resource id must be a string of at most 200 characters');
    }
    const actor = actorOf(input.actor);
    const ip = input.ip ?? (input.actor.type === 'system' ? undefined : input.actor.ip);
    const details = normaliseDetails(input.details);
    return {
      at: clock(),
      actor: { type: actor.type, id: actor.id, ...(actor.username ? { username: actor.username } : {}), ...(actor.role ? { role: actor.role } : {}) },
      action: input.action,
      resource: { type: input.resource.type, ...(input.resource.id ? { id: input.resource.id } : {}) },
      outcome: input.outcome,
      ...(ip ? { ip } : {}),
      ...(details ? { details } : {}),
    };
  }

  const service: AuditService = {
    record(input) {
      // Malformed input is a bug in the caller: throw synchronously-rejected, before taking a seq.
      let fields: Omit<ChainFields, 'seq' | 'prevHash'>;
      try {
        fields = build(input);
      } catch (error) {
        return Promise.reject(error);
      }
      const run = tail.then(() => append(fields));
      tail = run.catch(() => undefined);
      return run.catch((error: unknown) => {
        logger.error({ err: (error as Error).message, action: input.action }, 'audit entry could not be stored');
        throw new ServiceUnavailableError('audit.unavailable', 'The audit trail is unavailable; the action was not performed.', error);
      });
    },

    async query(query) {
      const filter: Record<string, unknown> = {};
      if (query.actor) filter.$or = [{ 'actor.username': query.actor.toLowerCase() }, { 'actor.id': query.actor }];
      if (query.resourceType) filter['resource.type'] = query.resourceType;
      if (query.resourceId) filter['resource.id'] = query.resourceId;
      if (query.action) filter.action = query.action;
      if (query.outcome) filter.outcome = query.outcome;
      if (query.from || query.to) filter.at = { ...(query.from ? { $gte: query.from } : {}), ...(query.to ? { $lte: query.to } : {}) };
      const [total, docs] = await Promise.all([
        Entries.countDocuments(filter),
        Entries.find(filter)
          .sort({ seq: -1 })
          .skip((query.page - 1) * query.pageSize)
          .limit(query.pageSize)
          .lean<AuditEntryDoc[]>(),
      ]);
      return { entries: docs.map(toAuditView), page: query.page, pageSize: query.pageSize, total };
    },

    async verifyChain() {
      const checkpoints = deps.checkpoints ? await deps.checkpoints.list() : undefined;
      return verifyChainOf(Entries, { keys, ...(checkpoints ? { checkpoints } : {}) });
    },

    async checkpoint() {
      const store = deps.checkpoints;
      if (!store) return { written: false };
      const head = await Entries.findOne({}).sort({ seq: -1 }).lean<AuditEntryDoc>();
      if (!head) return { written: false };
      if (!lastCheckpoint) {
        const latest = await store.latest();
        if (latest && 'checkpoint' in latest) lastCheckpoint = latest.checkpoint;
        else if (latest) logger.error({ key: latest.key, problem: latest.problem }, 'the newest audit checkpoint cannot be trusted; verifying the whole trail');
      }
      if (lastCheckpoint && lastCheckpoint.seq === head.seq && lastCheckpoint.hash === head.hash) return { written: false, seq: head.seq };
      const oldest = await Entries.findOne({}, { seq: 1 }).sort({ seq: 1 }).lean<Pick<AuditEntryDoc, 'seq'>>();
      // From the last checkpoint when it is still in the trail; after a purge past it, the whole trail.
      const check =
        lastCheckpoint && oldest && lastCheckpoint.seq >= oldest.seq
          ? await verifySinceCheckpoint(Entries, keys, lastCheckpoint)
          : await verifyChainOf(Entries, { keys });
      // The walk covered the head, so a verified head has its MAC; the second test is for the type.
      if (!check.ok || !head.mac) {
        const withheld = { ...(check.firstBrokenSeq !== undefined ? { firstBrokenSeq: check.firstBrokenSeq } : {}), ...(check.reason ? { reason: check.reason } : {}) };
        logger.error({ ...withheld, headSeq: head.seq }, 'audit trail does not verify since the last checkpoint; no checkpoint signed');
        return { written: false, withheld };
      }
      const checkpoint = signCheckpoint(keys, { seq: head.seq, hash: head.hash, mac: head.mac, headAt: head.at.toISOString(), at: clock().toISOString() });
      // The log line first: it is the second copy, and still one if S3 is down.
      logger.info({ auditCheckpoint: checkpoint }, 'audit checkpoint');
      const { written, key, lock } = await store.write(checkpoint);
      lastCheckpoint = checkpoint;
      return { written, seq: checkpoint.seq, key, lock };
    },

    retentionCutoff() {
      return monthsBefore(clock(), retentionMonths);
    },

    async purgeOlderThan(before, actor = { type: 'system', component: 'audit-retention' }) {
      const cutoff = service.retentionCutoff();
      if (!(before instanceof Date) || Number.isNaN(before.getTime())) throw new TypeError('purgeOlderThan needs a valid date');
      if (before > cutoff) {
        throw new BusinessRuleError('audit.retention', `Audit entries are kept at least ${retentionMonths} months; purge only before ${cutoff.toISOString()}.`, {
          retentionMonths,
          latestAllowed: cutoff.toISOString(),
        });
      }
      await ready();
      const oldest = await Entries.findOne({}).sort({ seq: 1 }).lean<AuditEntryDoc>();
      if (!oldest) return { purged: 0, firstKeptSeq: null, markerSeq: null };
      // The first entry (in seq order) at or after `before`: every entry before it in the chain is
      // older than `before`, whatever the clocks of the processes that wrote them. With none, keep
      // the newest entry so the chain still has an anchored start.
      const boundary =
        (await Entries.findOne({ at: { $gte: before } }).sort({ seq: 1 }).lean<AuditEntryDoc>()) ??
        (await Entries.findOne({}).sort({ seq: -1 }).lean<AuditEntryDoc>());
      if (!boundary || boundary.seq <= oldest.seq) return { purged: 0, firstKeptSeq: oldest.seq, markerSeq: null };
      const count = await Entries.countDocuments({ seq: { $lt: boundary.seq } });
      // Marker first: if the process dies before the delete, the marker is merely early, never missing.
      const marker = await service.record({
        actor,
        action: PURGE_ACTION,
        resource: { type: 'audit' },
        outcome: 'success',
        details: {
          before: before.toISOString(),
          retentionMonths,
          purgedFromSeq: oldest.seq,
          purgedCount: count,
          firstKeptSeq: boundary.seq,
          firstKeptPrevHash: boundary.prevHash,
        },
      });
      const { deletedCount } = await Entries.deleteMany({ seq: { $lt: boundary.seq } });
      logger.info({ purged: deletedCount, firstKeptSeq: boundary.seq }, 'audit entries purged after retention');
      return { purged: deletedCount, firstKeptSeq: boundary.seq, markerSeq: marker.seq };
    },
  };
  return service;
}
