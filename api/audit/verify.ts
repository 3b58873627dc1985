import type { Model } from 'mongoose';
import { entryHash, entryMac, GENESIS_HASH, macMatches, type AuditKeys } from './chain.ts';
import type { StoredCheckpoint } from './checkpoints.ts';
import type { AuditEntryDoc } from './model.ts';
import type { AuditService } from './service.ts';
import type { ChainVerification } from './schema.ts';

/** Action of the entry a purge appends; its details anchor the oldest entry kept. */
export const PURGE_ACTION = 'audit.purge';

type Reason = NonNullable<ChainVerification['reason']>;

/**
 * Walks the trail in seq order and reports the first entry that does not hold.
 *
 * - `hash_mismatch`: the entry's stored hash is not the hash of its fields (it was edited).
 * - `mac_mismatch` / `mac_missing`: the entry's hash is not vouched for by AUDIT_HMAC_KEY: it was
 *   edited and re-hashed by someone without the key (the database never holds it).
 * - `missing_seq`: a seq number is absent (an entry was deleted); firstBrokenSeq is the missing one.
 * - `broken_link`: the entry's prevHash is not the previous entry's hash (entries were replaced).
 * - `unanchored_start`: the oldest entry is neither seq 1 with the genesis prevHash nor the first
 *   entry kept by a recorded purge.
 * - `checkpoint_mismatch`: the entry at a signed checkpoint's seq no longer has the checkpoint's hash.
 * - `truncated`: the trail ends before the newest checkpoint (its newest entries were deleted).
 * - `checkpoint_invalid`: a checkpoint object is unreadable or its signature fails.
 *
 * Purges: `purgeOlderThan` deletes a prefix of the chain and appends a purge entry whose details
 * name the first kept seq and that entry's prevHash. Verification accepts the oldest entry's
 * prevHash when such a purge entry exists, and that purge entry is itself covered by the walk
 * and its MAC (it is newer than the entry it anchors), so a forged or edited anchor fails. Checkpoints
 * older than the oldest kept entry covered purged entries and are skipped.
 *
 * Limits: entries newer than the newest checkpoint can be deleted without trace until the next
 * checkpoint is taken (AUDIT_CHECKPOINT_MINUTES); checkpoints themselves are only as immutable as
 * the bucket makes them (object lock, or at least credentials that cannot delete).
 */
export async function verifyChainOf(
  model: Model<AuditEntryDoc>,
  options: { keys: AuditKeys; checkpoints?: StoredCheckpoint[]; batchSize?: number },
): Promise<ChainVerification> {
  const stored = options.checkpoints ?? [];
  const valid = stored.flatMap((s) => ('checkpoint' in s ? [s.checkpoint] : []));
  const invalid = stored.find((s) => 'problem' in s);
  const latest = valid.at(-1);
  const summary = { checked: valid.length, ...(latest ? { latestSeq: latest.seq, latestAt: latest.at } : {}) };
  if (invalid) return { ok: false, checked: 0, firstBrokenSeq: invalid.seq, reason: 'checkpoint_invalid', checkpoints: summary };

  const oldest = await model.findOne({}).sort({ seq: 1 }).lean<AuditEntryDoc>();
  if (!oldest) {
    return latest ? { ok: false, checked: 0, firstBrokenSeq: latest.seq, reason: 'truncated', checkpoints: summary } : { ok: true, checked: 0, checkpoints: summary };
  }

  let expectedPrevHash: string;
  if (oldest.seq === 1) expectedPrevHash = GENESIS_HASH;
  else {
    const anchor = await model
      .findOne({ seq: { $gt: oldest.seq }, action: PURGE_ACTION, outcome: 'success', 'details.firstKeptSeq': oldest.seq, 'details.firstKeptPrevHash': oldest.prevHash })
      .lean<AuditEntryDoc>();
    if (!anchor) return { ok: false, checked: 0, firstSeq: oldest.seq, firstBrokenSeq: oldest.seq, reason: 'unanchored_start', checkpoints: summary };
    expectedPrevHash = oldest.prevHash;
  }

  const checkpointHashes = new Map(valid.filter((c) => c.seq >= oldest.seq).map((c) => [c.seq, c.hash]));
  const walked = await walk(model, options.keys, { fromSeq: oldest.seq, expectedPrevHash, checkpointHashes, ...(options.batchSize ? { batchSize: options.batchSize } : {}) });
  const base = { checked: walked.checked, firstSeq: oldest.seq, ...(walked.lastSeq !== undefined ? { lastSeq: walked.lastSeq } : {}), checkpoints: summary };
  if (walked.broken) return { ok: false, ...base, firstBrokenSeq: walked.broken.seq, reason: walked.broken.reason };
  const lastSeq = walked.lastSeq ?? oldest.seq;
  if (latest && latest.seq > lastSeq) return { ok: false, ...base, firstBrokenSeq: lastSeq + 1, reason: 'truncated' };
  return { ok: true, ...base, lastSeq, headHash: walked.headHash ?? oldest.hash };
}

/**
 * Verifies only the entries from a checkpoint to the head: what the checkpoint job checks before
 * it signs a new head, so it never vouches for a rewritten trail.
 */
export async function verifySinceCheckpoint(
  model: Model<AuditEntryDoc>,
  keys: AuditKeys,
  from: { seq: number; hash: string },
): Promise<{ ok: boolean; checked: number; firstBrokenSeq?: number; reason?: Reason }> {
  const walked = await walk(model, keys, { fromSeq: from.seq, checkpointHashes: new Map([[from.seq, from.hash]]) });
  if (walked.broken) return { ok: false, checked: walked.checked, firstBrokenSeq: walked.broken.seq, reason: walked.broken.reason };
  if (walked.lastSeq === undefined) return { ok: false, checked: 0, firstBrokenSeq: from.seq, reason: 'truncated' };
  return { ok: true, checked: walked.checked };
}

interface Walked {
  checked: number;
  lastSeq?: number;
  headHash?: string;
  broken?: { seq: number; reason: Reason };
}

async function walk(
  model: Model<AuditEntryDoc>,
  keys: AuditKeys,
  options: { fromSeq: number; expectedPrevHash?: string; checkpointHashes: Map<number, string>; batchSize?: number },
): Promise<Walked> {
  let expectedSeq = options.fromSeq;
  let expectedPrevHash = options.expectedPrevHash;
  let checked = 0;
  let last: AuditEntryDoc | undefined;
  const result = (broken?: Walked['broken']): Walked => ({ checked, ...(last ? { lastSeq: last.seq, headHash: last.hash } : {}), ...(broken ? { broken } : {}) });
  const cursor = model
    .find({ seq: { $gte: options.fromSeq } })
    .sort({ seq: 1 })
    .lean<AuditEntryDoc[]>()
    .cursor({ batchSize: options.batchSize ?? 500 });
  try {
    for await (const entry of cursor as AsyncIterable<AuditEntryDoc>) {
      if (entry.seq !== expectedSeq) return result({ seq: expectedSeq, reason: 'missing_seq' });
      if (entryHash(entry) !== entry.hash) return result({ seq: entry.seq, reason: 'hash_mismatch' });
      if (!entry.mac) return result({ seq: entry.seq, reason: 'mac_missing' });
      if (!macMatches(entryMac(keys, entry.hash), entry.mac)) return result({ seq: entry.seq, reason: 'mac_mismatch' });
      if (expectedPrevHash !== undefined && entry.prevHash !== expectedPrevHash) return result({ seq: entry.seq, reason: 'broken_link' });
      const pinned = options.checkpointHashes.get(entry.seq);
      if (pinned !== undefined && pinned !== entry.hash) return result({ seq: entry.seq, reason: 'checkpoint_mismatch' });
      checked += 1;
      last = entry;
      expectedSeq = entry.seq + 1;
      expectedPrevHash = entry.hash;
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
  // A checkpoint beyond the last entry walked is reported by the caller as truncation.
  return result();
}

/** For `mintdesk admin verify-audit`: verifies the trail of a runtime's database against its anchors. */
export function verifyAuditChain(runtime: { services: { audit: Pick<AuditService, 'verifyChain'> } }): Promise<ChainVerification> {
  return runtime.services.audit.verifyChain();
}
