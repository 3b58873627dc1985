import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ConflictError } from './errors.ts';

// Delete only if we still own it: a lock that expired and was taken by another holder stays theirs.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * A short mutual-exclusion lock in Redis. Used where a Mongo read-modify-write must not interleave
 * (FerretDB does not make single-document updates atomic under concurrency), e.g. order transitions.
 */
export async function withLock<T>(
  redis: Redis,
  key: string,
  work: () => Promise<T>,
  options: { ttlMs?: number; waitMs?: number } = {},
): Promise<T> {
  const ttlMs = options.ttlMs ?? 10_000;
  const deadline = Date.now() + (options.waitMs ?? 5_000);
  const owner = randomBytes(12).toString('hex');
  let delay = 5;
  while ((await redis.set(key, owner, 'PX', ttlMs, 'NX')) !== 'OK') {
    if (Date.now() > deadline) throw new ConflictError('lock.busy', 'This record is being changed by someone else; try again.');
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await work();
  } finally {
    await redis.eval(RELEASE, 1, key, owner).catch(() => undefined);
  }
}
