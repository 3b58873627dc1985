import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../../platform/logger.ts';
import type { ObjectStore } from '../../platform/object-store.ts';
import { canonicalJson, macMatches, type AuditKeys } from './chain.ts';

/**
 * Signed checkpoints of the audit head, kept outside the database.
 *
 * Entry MACs stop someone who can write the audit collection from rewriting an entry, but not from
 * deleting the newest entries, and they are only as safe as AUDIT_HMAC_KEY. A checkpoint records
 * (seq, hash, MAC, time) of the head, signed with a key derived from AUDIT_HMAC_KEY, and goes to
 * two places the application cannot rewrite:
 *
 * - an S3 object under a key of its own per seq, written only if absent, and with an object-lock
 *   retention (compliance or governance) where the bucket has object lock. Without object lock
 *   (s3rver, a bucket created without it) the key is still never overwritten by mintdesk, but
 *   whoever holds the S3 credentials could delete it; the log says which protection applies;
 * - the log stream, as one pino line (`auditCheckpoint`), which ships to wherever logs are kept.
 *
 * Verification then requires the entry at each checkpoint's seq to carry the checkpoint's hash, and
 * the trail to reach at least the newest checkpoint: a truncated or re-hashed history no longer
 * matches. Entries newer than the last checkpoint are protected by their MACs only, so the interval
 * (AUDIT_CHECKPOINT_MINUTES) bounds what a deletion of the tail could hide.
 */
export const CHECKPOINT_VERSION = 'mintdesk-audit-checkpoint-v1';
export const CHECKPOINT_PREFIX = 'audit-checkpoints/';

export const auditCheckpointSchema = z.strictObject({
  v: z.literal(CHECKPOINT_VERSION),
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
  /** When the head entry was written. */
  headAt: z.string(),
  /** When the checkpoint was taken. */
  at: z.string(),
  signature: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuditCheckpoint = z.infer<typeof auditCheckpointSchema>;

export const checkpointKey = (seq: number) => `${CHECKPOINT_PREFIX}${String(seq).padStart(12, '0')}.json`;
const seqOfKey = (key: string) => Number(key.slice(CHECKPOINT_PREFIX.length).replace(/\.json$/, ''));

function signatureOf(keys: AuditKeys, body: Omit<AuditCheckpoint, 'signature'>): string {
  return createHmac('sha256', keys.checkpointKey).update(canonicalJson(body)).digest('hex');
}

export function signCheckpoint(keys: AuditKeys, body: Omit<AuditCheckpoint, 'v' | 'signature'>): AuditCheckpoint {
  const unsigned = { v: CHECKPOINT_VERSION, ...body } as const;
  return { ...unsigned, signature: signatureOf(keys, unsigned) };
}

/** A checkpoint as read back: valid, or the reason it cannot be trusted. */
export type StoredCheckpoint = { key: string; seq: number } & ({ checkpoint: AuditCheckpoint } | { problem: string });

export function openCheckpoint(keys: AuditKeys, key: string, text: string): StoredCheckpoint {
  const seq = seqOfKey(key);
  let parsed: AuditCheckpoint;
  try {
    parsed = auditCheckpointSchema.parse(JSON.parse(text));
  } catch {
    return { key, seq, problem: 'unreadable' };
  }
  const { signature, ...body } = parsed;
  if (!macMatches(signatureOf(keys, body), signature)) return { key, seq, problem: 'bad_signature' };
  if (parsed.seq !== seq) return { key, seq, problem: 'seq_does_not_match_key' };
  return { key, seq, checkpoint: parsed };
}

export type CheckpointLock = 'COMPLIANCE' | 'GOVERNANCE' | 'none';

export interface CheckpointStore {
  /** Writes once per seq; `written: false` when a checkpoint of that seq already exists. */
  write(checkpoint: AuditCheckpoint): Promise<{ written: boolean; key: string; lock: CheckpointLock }>;
  /** Every checkpoint in seq order, each opened and checked. */
  list(): Promise<StoredCheckpoint[]>;
  /** The newest checkpoint, opened and checked, if any. */
  latest(): Promise<StoredCheckpoint | undefined>;
}

export interface CheckpointStoreDeps {
  store: ObjectStore;
  keys: AuditKeys;
  logger: Logger;
  lockMode: 'compliance' | 'governance';
  /** Object-lock retention: at least the audit retention, so a checkpoint outlives the entries it covers. */
  retentionMonths: number;
}

const READ_CONCURRENCY = 16;

function addMonths(date: Date, months: number): Date {
  const result = new Date(date);
  result.setUTCMonth(result.getUTCMonth() + months);
  return result;
}

async function readText(store: ObjectStore, key: string): Promise<string> {
  const { body } = await store.get(key);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export function createCheckpointStore(deps: CheckpointStoreDeps): CheckpointStore {
  const { store, keys, logger } = deps;
  let lock: Promise<CheckpointLock> | undefined;
  // Asked once per process, and said once in the log: which protection checkpoints actually get.
  const lockInUse = () =>
    (lock ??= store.objectLock().then((state) => {
      const mode: CheckpointLock = state.enabled ? (deps.lockMode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE') : 'none';
      if (mode === 'none') {
        logger.warn({ bucket: store.bucket, reason: state.reason }, 'audit checkpoints: no S3 object lock on this bucket; checkpoints are write-once keys only (whoever holds the S3 credentials could still delete them)');
      } else {
        logger.info({ bucket: store.bucket, mode, retentionMonths: deps.retentionMonths }, 'audit checkpoints: S3 object lock in use');
      }
      return mode;
    }));

  async function keysInOrder(): Promise<string[]> {
    const listed = await store.list(CHECKPOINT_PREFIX);
    return listed
      .map((item) => item.key)
      .filter((key) => /^\d{12}\.json$/.test(key.slice(CHECKPOINT_PREFIX.length)))
      .sort();
  }

  const open = async (key: string) => openCheckpoint(keys, key, await readText(store, key));

  return {
    async write(checkpoint) {
      const mode = await lockInUse();
      const key = checkpointKey(checkpoint.seq);
      const written = await store.put(key, JSON.stringify(checkpoint), {
        contentType: 'application/json',
        ifAbsent: true,
        ...(mode === 'none' ? {} : { retention: { mode, until: addMonths(new Date(checkpoint.at), deps.retentionMonths) } }),
      });
      return { written, key, lock: mode };
    },
    async list() {
      const ordered = await keysInOrder();
      const result: StoredCheckpoint[] = new Array(ordered.length);
      let next = 0;
      const worker = async () => {
        while (next < ordered.length) {
          const index = next++;
          result[index] = await open(ordered[index]!);
        }
      };
      await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, ordered.length) }, worker));
      return result;
    },
    async latest() {
      const ordered = await keysInOrder();
      const last = ordered.at(-1);
      return last ? open(last) : undefined;
    },
  };
}
