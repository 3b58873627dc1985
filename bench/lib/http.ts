import { Agent, request } from 'node:http';

/**
 * A JSON client over a bounded pool of keep-alive connections, for load scenarios that need to
 * read every answer (autocannon only counts them). Node's fetch would open a connection per
 * concurrent request with no upper bound; here `connections` is the most sockets ever open.
 */
export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
}

export interface JsonClient {
  send(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string> }): Promise<JsonResponse>;
  /** Closes the idle keep-alive sockets. */
  close(): void;
}

export function createJsonClient(baseUrl: string, { connections }: { connections: number }): JsonClient {
  const target = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  return {
    send(method, path, options = {}) {
      const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
      const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
      if (payload) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = payload.length;
      }
      return new Promise<JsonResponse>((resolve, reject) => {
        const req = request({ agent, host: target.hostname, port: target.port, method, path, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON: keep the text so the caller can report it
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          });
        });
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Runs `worker` over `items` with at most `concurrency` running at once; resolves when all are done. */
export async function runPool<T>(items: readonly T[], concurrency: number, worker: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await worker(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
}

/** Percentile of already sorted numbers (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
