import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { monitorEventLoopDelay, performance, type Histogram } from 'node:perf_hooks';
import pino from 'pino';
import type { Logger } from '../../platform/logger.ts';
import type { RoundTripStats } from '../checkout/profile.ts';

/**
 * The server's side of an IVR benchmark run, read from the HTTP server without touching the app:
 * how long each webhook took inside the process (by path), which answers were the IVR's apology
 * (a failure the IVR hid from Twilio behind a 200, which the callers' status codes cannot show),
 * and the event-loop delay of the thread that serves them.
 */
export interface ServerProbe {
  /** Starts a fresh measurement. */
  reset(): void;
  snapshot(): ServerSnapshot;
  stop(): void;
}

export interface ServerSnapshot {
  /** Milliseconds from the request's arrival to the last byte of the answer, by path. */
  byPath: Map<string, number[]>;
  /** Answers that were the apology (a failed step, or one over its time budget), by path. */
  apologies: Record<string, number>;
  loopDelayMs: { p50: number; p99: number; max: number };
}

export interface ProbeOptions {
  /** Only requests under this path prefix are recorded (default /ivr/). */
  prefix?: string;
  /** Text that only the apology TwiML contains (any language); a body containing one counts. */
  apologyMarkers: readonly string[];
  /** A whole body that is the apology of a wait step (hold audio only). */
  apologyWaitBody?: string;
}

const LOOP_RESOLUTION_MS = 5;

/**
 * The histogram records the whole interval between its timer's ticks, resolution included; what
 * is left after taking the resolution off is how late the loop was.
 */
export function loopDelay(histogram: Histogram, resolutionMs = LOOP_RESOLUTION_MS): { p50: number; p99: number; max: number } {
  const late = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs);
  return { p50: late(histogram.percentile(50)), p99: late(histogram.percentile(99)), max: late(histogram.max) };
}

export function probeServer(server: Server, options: ProbeOptions): ServerProbe {
  const prefix = options.prefix ?? '/ivr/';
  let byPath = new Map<string, number[]>();
  let apologies: Record<string, number> = {};
  let loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    if (!url.startsWith(prefix)) return;
    const path = url.split('?')[0]!;
    const began = performance.now();
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      const chunk = args[0];
      const body = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
      if (body && (options.apologyMarkers.some((marker) => body.includes(marker)) || body === options.apologyWaitBody)) apologies[path] = (apologies[path] ?? 0) + 1;
      return end(...args);
    }) as typeof res.end;
    res.once('finish', () => {
      const list = byPath.get(path) ?? [];
      list.push(performance.now() - began);
      byPath.set(path, list);
    });
  };
  // First in line: before express runs (and rewrites req.url inside mounted routers), so the clock starts at arrival.
  server.prependListener('request', onRequest);

  return {
    reset() {
      byPath = new Map();
      apologies = {};
      loop.disable();
      loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
      loop.enable();
    },
    snapshot() {
      return { byPath, apologies, loopDelayMs: loopDelay(loop) };
    },
    stop() {
      server.off('request', onRequest);
      loop.disable();
    },
  };
}

/**
 * Mongo and Redis round trips per webhook, attributed exactly by running one call at a time: the
 * commands seen between a request's arrival and its answer are that request's. Requests that
 * overlap (none when one call runs at a time) are counted apart rather than misattributed.
 */
export interface RoundTripsByPath {
  /** path -> operation -> count (summed over that path's requests). */
  operations: Map<string, Map<string, number>>;
  requests: Map<string, number>;
  overlapping: number;
  stop(): void;
}

export function attributeRoundTrips(server: Server, trace: RoundTripStats, prefix = '/ivr/'): RoundTripsByPath {
  const operations = new Map<string, Map<string, number>>();
  const requests = new Map<string, number>();
  let inFlight = 0;
  let overlapping = 0;
  const counts = () => new Map([...trace.byOperation].map(([name, stats]) => [name, stats.count]));

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    if (!url.startsWith(prefix)) return;
    const path = url.split('?')[0]!;
    inFlight += 1;
    if (inFlight > 1) overlapping += 1;
    const before = counts();
    res.once('close', () => {
      inFlight -= 1;
      requests.set(path, (requests.get(path) ?? 0) + 1);
      const byOperation = operations.get(path) ?? new Map<string, number>();
      for (const [name, count] of counts()) {
        const delta = count - (before.get(name) ?? 0);
        if (delta > 0) byOperation.set(name, (byOperation.get(name) ?? 0) + delta);
      }
      operations.set(path, byOperation);
    });
  };
  server.prependListener('request', onRequest);
  return { operations, requests, get overlapping() {
    return overlapping;
  }, stop: () => server.off('request', onRequest) };
}

/**
 * Warnings and errors the runtime logged (the bench runtime formats every line and discards it):
 * what an apology answer or a lost status callback was, by message and error code.
 */
export interface LoggedProblems {
  byMessage: Map<string, { count: number; example: string }>;
  stop(): void;
}

export function captureLoggedProblems(logger: Logger): LoggedProblems {
  const byMessage = new Map<string, { count: number; example: string }>();
  const stream = (logger as unknown as Record<symbol, { write: (line: string) => unknown }>)[pino.symbols.streamSym];
  if (!stream) return { byMessage, stop() {} };
  const write = stream.write;
  stream.write = function (this: unknown, line: string) {
    if (line.includes('"level":"warn"') || line.includes('"level":"error"') || line.includes('"level":"fatal"')) {
      try {
        const entry = JSON.parse(line) as { level: string; msg?: string; code?: string; name?: string; message?: string; err?: string; path?: string };
        const key = `${entry.level}: ${entry.msg ?? ''} ${entry.code ?? entry.name ?? ''}`.trim();
        const found = byMessage.get(key) ?? { count: 0, example: [entry.path, entry.message ?? entry.err].filter(Boolean).join(' ').slice(0, 200) };
        found.count += 1;
        byMessage.set(key, found);
      } catch {
        // not one JSON line: nothing to count
      }
    }
    return write.call(this, line);
  };
  return {
    byMessage,
    stop() {
      stream.write = write;
    },
  };
}
