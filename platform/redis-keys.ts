import type { Redis } from 'ioredis';

/** The keys matching `pattern`, a batch at a time (SCAN: unlike KEYS it never blocks Redis). */
export async function* scanKeys(redis: Redis, pattern: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/** Deletes every key matching `pattern`; returns how many were deleted. */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let deleted = 0;
  for await (const keys of scanKeys(redis, pattern)) deleted += await redis.del(...keys);
  return deleted;
}
