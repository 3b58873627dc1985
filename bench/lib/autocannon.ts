import autocannon from 'autocannon';
import type { Cell } from './table.ts';

/**
 * One autocannon run reduced to what a benchmark table shows. `next()` builds every request
 * afresh (a unique body, Idempotency-Key, client address...), so no two requests are the same.
 */
export interface LoadOptions {
  name: string;
  url: string;
  connections: number;
  durationSeconds: number;
  method?: 'GET' | 'POST';
  path: string;
  next?: () => { body?: string; headers?: Record<string, string> };
  /** Per-request timeout. @defaultValue 10 */
  timeoutSeconds?: number;
}

export interface LoadResult {
  name: string;
  connections: number;
  seconds: number;
  /** 2xx answers per second: for order placement, orders per second. */
  okPerSecond: number;
  ok: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Non-2xx answers by status code. */
  failures: Record<string, number>;
  /** Connection errors and timeouts (no answer at all). */
  errors: number;
  timeouts: number;
}

export async function measure(options: LoadOptions): Promise<LoadResult> {
  const method = options.method ?? 'GET';
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: options.timeoutSeconds ?? 10,
    requests: [
      {
        method,
        path: options.path,
        ...(options.next
          ? {
              setupRequest: (request: autocannon.Request) => {
                const built = options.next!();
                return { ...request, ...(built.body !== undefined ? { body: built.body } : {}), headers: { ...(request.headers ?? {}), ...(built.headers ?? {}) } };
              },
            }
          : {}),
      },
    ],
  });
  const failures: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    if (!status.startsWith('2') && count) failures[status] = count;
  }
  return {
    name: options.name,
    connections: options.connections,
    seconds: result.duration,
    ok: result['2xx'],
    okPerSecond: result['2xx'] / result.duration,
    latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
    failures,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

export const LOAD_HEADERS = ['endpoint', 'conns', '2xx/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors'] as const;

export function loadRow(result: LoadResult): Cell[] {
  const failures = Object.entries(result.failures).map(([status, count]) => `${status}x${count}`).join(' ') || '0';
  return [result.name, result.connections, result.okPerSecond, result.latency.p50, result.latency.p90, result.latency.p99, result.latency.max, failures, result.errors + result.timeouts];
}
