import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '../logger.ts';
import { canConnect, freePort, waitForPort } from './net.ts';
import { findExecutable, startManagedProcess } from './process.ts';
import { EmbeddedServiceError } from './mongo.ts';

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

/** A reachable local Redis on the standard port, else a redis-server we start on a free port. */
export async function startEmbeddedRedis(options: { dataDir: string; persistent: boolean; logger: Logger }): Promise<EmbeddedRedis> {
  if (await canConnect('127.0.0.1', 6379)) return { url: 'redis://127.0.0.1:6379', stop: async () => undefined };
  const binary = findExecutable('redis-server');
  if (!binary) throw new EmbeddedServiceError('No Redis found: set REDIS_URL, or start Redis on 127.0.0.1:6379, or install redis-server.');
  const port = await freePort();
  const dir = resolve(options.dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  // BullMQ needs noeviction; appendonly keeps queued jobs across a restart of the platform.
  const child = startManagedProcess(binary, [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--maxmemory-policy', 'noeviction',
    '--appendonly', options.persistent ? 'yes' : 'no', '--save', '',
  ]);
  await waitForPort('127.0.0.1', port, 10_000, 'redis-server');
  options.logger.info({ port }, 'embedded redis-server started');
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.stop() };
}
