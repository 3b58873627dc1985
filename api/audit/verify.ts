import type { Model } from 'mongoose';
import { entryHash, GENESIS_HASH } from './chain.ts';
import type { AuditEntryDoc } from './model.ts';
import type { AuditService } from './service.ts';
import type { ChainVerification } from './schema.ts';

/** Action of the entry a purge appends; its details anchor the oldest entry kept. */
export const PURGE_ACTION = 'audit.purge';

/**
 * Walks the trail in seq order and reports the first entry that does not hold.
 *
 * - `hash_mismatch`: the entry's stored hash is not the hash of its fields (it was edited).
 * - `missing_seq`: a seq number is absent (an entry was deleted); firstBrokenSeq is the missing one.
 * - `broken_link`: the entry's prevHash is not the previous entry's hash (entries were replaced).
 * - `unanchored_start`: the oldest entry is neither seq 1 with the genesis prevHash nor the first
 *   entry kept by a recorded purge.
 *
 * Purges: `purgeOlderThan` deletes a prefix of the chain and appends a purge entry whose details
 * name the first kept seq and that entry's prevHash. Verification accepts the oldest entry's
 * prevHash when such a purge entry exists, and that purge entry is itself covered by the walk
 * (it is newer than the entry it anchors), so a forged or edited anchor shows up as a
 * hash mismatch. This keeps verification a single linear walk with no side table, at the cost
 * that only the prefix before the oldest kept entry can be explained away, which is exactly what a
 * retention purge removes.
 *
 * Limits: whoever can write the collection can rewrite the entire tail consistently; compare
 * `headHash` with a copy kept elsewhere (e.g. the daily report) to detect that. Deleting the newest
 * entries is likewise only visible against such a copy.
 */
export async function verifyChainOf(model: Model<AuditEntryDoc>, options: { batchSize?: number } = {}): Promise<ChainVerification> {
  const oldest = await model.findOne({}).sort({ seq: 1 }).lean<AuditEntryDoc>();
  if (!oldest) return { ok: true, checked: 0 };

  let expectedPrevHash: string;
  if (oldest.seq === 1) expectedPrevHash = GENESIS_HASH;
  else {
    const anchor = await model
      .findOne({ seq: { $gt: oldest.seq }, action: PURGE_ACTION, outcome: 'success', 'details.firstKeptSeq': oldest.seq, 'details.firstKeptPrevHash': oldest.prevHash })
      .lean<AuditEntryDoc>();
    if (!anchor) return { ok: false, checked: 0, firstSeq: oldest.seq, firstBrokenSeq: oldest.seq, reason: 'unanchored_start' };
    expectedPrevHash = oldest.prevHash;
  }

  let expectedSeq = oldest.seq;
  let checked = 0;
  let last: AuditEntryDoc | undefined;
  const cursor = model.find({}).sort({ seq: 1 }).lean<AuditEntryDoc[]>().cursor({ batchSize: options.batchSize ?? 500 });
  const broken = (firstBrokenSeq: number, reason: NonNullable<ChainVerification['reason']>): ChainVerification => ({
    ok: false,
    checked,
    firstSeq: oldest.seq,
    ...(last ? { lastSeq: last.seq } : {}),
    firstBrokenSeq,
    reason,
  });
  try {
    for await (const entry of cursor as AsyncIterable<AuditEntryDoc>) {
      if (entry.seq !== expectedSeq) return broken(expectedSeq, 'missing_seq');
      if (entryHash(entry) !== entry.hash) return broken(entry.seq, 'hash_mismatch');
      if (entry.prevHash !== expectedPrevHash) return broken(entry.seq, 'broken_link');
      checked += 1;
      last = entry;
      expectedSeq = entry.seq + 1;
      expectedPrevHash = entry.hash;
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
  return { ok: true, checked, firstSeq: oldest.seq, lastSeq: last?.seq ?? oldest.seq, headHash: last?.hash ?? oldest.hash };
}

/** For `mintdesk admin verify-audit`: verifies the trail of a runtime's database. */
export function verifyAuditChain(runtime: { services: { audit: Pick<AuditService, 'verifyChain'> } }): Promise<ChainVerification> {
  return runtime.services.audit.verifyChain();
}
