import { createHmac } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import type { Logger } from '../../platform/logger.ts';
import { ConflictError, ValidationError } from '../../platform/errors.ts';
import { idempotencyModel } from './model.ts';

const KEY_PATTERN = /^[A-Za-z0-9_:.-]{8,128}$/;
const DAY_MS = 24 * 3600 * 1000;

export interface StoredResponse {
  status: number;
  body: unknown;
}

/**
 * Idempotency-Key semantics for order placement: the first request with a key runs; a retry with
 * the same key and body gets the first response; the same key with another body is a 409; a retry
 * while the first is still running is a 409 too (the client retries later). Keys live 24 h.
 * The unique _id makes the claim safe across API processes without transactions.
 */
export function createIdempotencyService({ mongo, clock, secret, logger, ttlMs = DAY_MS }: { mongo: Connection; clock: Clock; secret: string; logger: Pick<Logger, 'warn'>; ttlMs?: number }) {
  const Records = idempotencyModel(mongo);

  // Keyed: a checkout body holds a card number, and a plain hash of one can be brute-forced.
  const hashRequest = (body: unknown) => createHmac('sha256', secret).update(stableStringify(body)).digest('hex');

  return {
    async run(scope: string, key: string, body: unknown, execute: () => Promise<StoredResponse>): Promise<StoredResponse & { replayed: boolean }> {
      if (!KEY_PATTERN.test(key)) throw new ValidationError('Idempotency-Key must be 8-128 letters, digits or _:.-', [{ path: 'Idempotency-Key', code: 'invalid_format', message: 'Invalid idempotency key.' }], 'idempotency.invalid_key');
      const id = `${scope}:${key}`;
      const requestHash = hashRequest(body);
      const now = clock();
      // Claim first and read only when the key is taken: almost every key is new, and a read
      // before the claim would be one more round trip for each of them.
      const claim = () =>
        Records.create({ _id: id, requestHash, state: 'pending', status: null, body: null, createdAt: now, expiresAt: new Date(now.getTime() + ttlMs) }).then(
          () => true,
          (error: unknown) => {
            if ((error as { code?: number }).code !== 11000) throw error;
            return false;
          },
        );
      if (!(await claim())) {
        const existing = await Records.findById(id).lean();
        if (existing && existing.expiresAt > now) return replay(existing, requestHash);
        // Expired, or forgotten by a failed first attempt since our claim bounced: claim again.
        if (existing) await Records.deleteOne({ _id: id, expiresAt: existing.expiresAt });
        if (!(await claim())) {
          const raced = await Records.findById(id).lean();
          if (raced) return replay(raced, requestHash);
          throw new ConflictError('idempotency.in_progress', 'The first request with this Idempotency-Key is still being processed.');
        }
      }
      let response: StoredResponse;
      try {
        response = await execute();
      } catch (error) {
        // A failure that changed nothing can be retried with the same key: forget the claim. If
        // forgetting fails too, the caller still gets the real reason (sold out, declined...), not
        // the database's; the claim then answers "in progress" until it expires.
        await Records.deleteOne({ _id: id, state: 'pending' }).catch((cause: Error) => logger.warn({ err: cause.message, scope }, 'idempotency claim not released after a failure'));
        throw error;
      }
      // The work is done (an order exists now): answer it even if the answer cannot be stored. An
      // error here would tell a shopper whose order was placed that it failed, and a new attempt
      // under a new key would order twice.
      await Records.updateOne({ _id: id }, { $set: { state: 'done', status: response.status, body: response.body } }).catch((cause: Error) =>
        logger.warn({ err: cause.message, scope }, 'idempotency result not stored; a retry with this key is told it is in progress until the key expires'),
      );
      return { ...response, replayed: false };
    },
    async purgeExpired(): Promise<number> {
      const result = await Records.deleteMany({ expiresAt: { $lte: clock() } });
      return result.deletedCount ?? 0;
    },
  };

  function replay(record: { requestHash: string; state: string; status: number | null; body: unknown }, requestHash: string) {
    if (record.requestHash !== requestHash) throw new ConflictError('idempotency.key_reused', 'This Idempotency-Key was used with a different request.');
    if (record.state !== 'done') throw new ConflictError('idempotency.in_progress', 'The first request with this Idempotency-Key is still being processed.');
    return { status: record.status ?? 200, body: record.body, replayed: true };
  }
}

export type IdempotencyService = ReturnType<typeof createIdempotencyService>;

/** JSON with sorted keys, so the same body hashes the same whatever its key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
