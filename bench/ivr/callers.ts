import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { CALL_SCRIPTS, driveSimulatedCalls, type CallScriptName, type OrderFixture } from './call-scripts.ts';
import { createSimulatedCall } from '../../ivr/simulator/call.ts';
import { createLightFetch } from './light-fetch.ts';
import { loopDelay } from './server-probe.ts';

/**
 * The callers of the IVR benchmark: simulated phone calls (ivr/simulator/call.ts, signed exactly
 * as Twilio signs) placed in "lanes", each lane one caller after another, for a bounded time.
 * The same machinery calls the static-TwiML endpoint, so both sides of the comparison pay the same
 * client costs (signing, fetch, TwiML parsing). Runs in its own thread (caller-thread.ts) so the
 * client's work does not queue behind the server's on one event loop, as it would not with Twilio.
 */

export type ScenarioTarget =
  | {
      kind: 'ivr';
      /** PUBLIC_BASE_URL: what the signatures cover. */
      publicBaseUrl: string;
      /** Where the app listens (loopback). */
      connectTo: string;
      authToken: string;
      /** Orders placed through the checkout, with their billing ZIP. */
      orders: OrderFixture[];
    }
  | {
      kind: 'static';
      /** The static endpoint's URL; every webhook of the call, status callback included, goes there. */
      url: string;
      authToken: string;
      /** Key presses per call: about as many webhooks per call as the IVR scripts make. */
      presses: number;
    };

export interface ScenarioSpec {
  name: string;
  target: ScenarioTarget;
  /** Callers at once. */
  lanes: number;
  /** Lane k starts at rampMs * k / lanes, so calls arrive spread out rather than in one burst. */
  rampMs: number;
  /** Measurement starts this long after the first lane (no earlier than the end of the ramp). */
  settleMs: number;
  /** Measured window. No call starts after it; calls under way finish their script (and are checked). */
  windowMs: number;
  /** Stop a lane after this many calls even inside the window (the profile's one call per script). */
  callsPerLane?: number;
  /** A caller's pause before each action, uniform in [min, max] ms; [0, 0] for none. */
  thinkMs: [number, number];
  /** First caller number (E.164 digits); each call adds one, so no two calls share a caller id. */
  firstCaller: number;
  requestTimeoutMs: number;
}

export interface ScenarioResult {
  name: string;
  lanes: number;
  windowMs: number;
  /** Webhook requests answered inside the window (throughput) and their latencies in ms. */
  windowRequests: number;
  windowLatenciesMs: number[];
  /** Every request of the run, including the ramp and the drain. */
  totalRequests: number;
  /** Latencies inside the window by Twilio's purpose of the request (voice, gather_action...). */
  byPurpose: Record<string, number[]>;
  callsStarted: number;
  callsCompleted: number;
  /** Calls completed inside the window. */
  windowCalls: number;
  byScript: Record<string, number>;
  /** Requests Twilio would have logged as failed: non-2xx (by status) or no answer ('none'). */
  httpErrors: Record<string, number>;
  /** Failed calls by reason (application error, warning, a prompt the caller did not hear...). */
  failures: Record<string, { count: number; example: string }>;
  /** Wall time from the first lane to the last call ending. */
  durationMs: number;
  /** Event-loop delay of the caller thread: when this is high, client-side latency is inflated. */
  callerLoopDelayMs: { p50: number; p99: number; max: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** One keep-alive pool for every call of the thread, as Twilio keeps connections to a webhook host. */
const fetchImpl = createLightFetch();

export async function runScenario(spec: ScenarioSpec): Promise<ScenarioResult> {
  const began = performance.now();
  const elapsed = () => performance.now() - began;
  const windowStart = Math.max(spec.settleMs, spec.rampMs);
  const windowEnd = windowStart + spec.windowMs;
  const [thinkMin, thinkMax] = spec.thinkMs;
  const think = thinkMax > 0 ? () => thinkMin + Math.random() * (thinkMax - thinkMin) : 0;

  const result = emptyResult(spec.name, spec.lanes, spec.windowMs);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();

  const onRequest = ({ purpose, ms, status }: { purpose: string; ms: number; status: number | null }) => {
    result.totalRequests += 1;
    if (status === null || status < 200 || status > 299) {
      const key = `${purpose} ${status ?? 'none'}`;
      result.httpErrors[key] = (result.httpErrors[key] ?? 0) + 1;
    }
    const at = elapsed();
    if (at < windowStart || at > windowEnd) return;
    result.windowRequests += 1;
    result.windowLatenciesMs.push(ms);
    (result.byPurpose[purpose] ??= []).push(ms);
  };
  const fail = (reason: string) => {
    // Reasons carry call-specific details (sids, numbers); group by their first words.
    const key = reason.replace(/CA[0-9a-f]{32}/g, 'CA…').replace(/\d{6,}/g, '#').slice(0, 90);
    const entry = (result.failures[key] ??= { count: 0, example: reason.slice(0, 300) });
    entry.count += 1;
  };
  const completed = (script: string) => {
    result.callsCompleted += 1;
    result.byScript[script] = (result.byScript[script] ?? 0) + 1;
    if (elapsed() >= windowStart && elapsed() <= windowEnd) result.windowCalls += 1;
  };

  let callIndex = 0;
  async function oneCall(lane: number, round: number): Promise<void> {
    const index = callIndex++;
    result.callsStarted += 1;
    const target = spec.target;
    if (target.kind === 'ivr') {
      const script: CallScriptName = CALL_SCRIPTS[(lane + round) % CALL_SCRIPTS.length]!;
      const order = target.orders[(lane * 7 + round) % target.orders.length];
      const run = await driveSimulatedCalls({
        publicBaseUrl: target.publicBaseUrl,
        connectTo: target.connectTo,
        authToken: target.authToken,
        calls: 1,
        scripts: [script],
        ...(order ? { orders: [order] } : {}),
        firstCaller: spec.firstCaller + index,
        thinkTimeMs: think,
        requestTimeoutMs: spec.requestTimeoutMs,
        fetchImpl,
        onRequest,
      });
      if (run.completed === 1) completed(script);
      for (const failure of run.failed) fail(`${failure.script}: ${failure.reason}`);
      return;
    }
    await staticCall(target, `+${spec.firstCaller + index}`);
  }

  /** The static endpoint's caller: answered, presses a key at each Gather, hangs up. */
  async function staticCall(target: Extract<ScenarioTarget, { kind: 'static' }>, from: string): Promise<void> {
    const call = createSimulatedCall({
      baseUrl: target.url,
      voicePath: target.url,
      authToken: target.authToken,
      from,
      to: '+12025550199',
      statusCallbackUrl: target.url,
      requestTimeoutMs: spec.requestTimeoutMs,
      fetchImpl,
      onEvent: (event) => {
        if (event.type === 'http') onRequest({ purpose: event.purpose, ms: event.ms, status: event.status });
      },
    });
    try {
      await call.start();
      for (let i = 0; i < target.presses && call.state === 'awaiting_input'; i += 1) {
        const pause = typeof think === 'function' ? think() : 0;
        if (pause > 0) await sleep(pause);
        await call.press('1');
      }
      await call.hangup();
      if (call.applicationError) throw new Error(`application error ${call.applicationError.code}: ${call.applicationError.message}`);
      if (call.warnings.length) throw new Error(`warnings: ${call.warnings.join('; ')}`);
      completed('static');
    } catch (error) {
      fail(`static: ${error instanceof Error ? error.message : String(error)}`);
      await call.hangup().catch(() => undefined);
    }
  }

  await Promise.all(
    Array.from({ length: spec.lanes }, async (_, lane) => {
      const startAt = (spec.rampMs * lane) / spec.lanes;
      if (startAt > 0) await sleep(startAt);
      const rounds = spec.callsPerLane ?? Infinity;
      for (let round = 0; round < rounds && elapsed() < windowEnd; round += 1) await oneCall(lane, round);
    }),
  );

  loop.disable();
  result.durationMs = Math.round(elapsed());
  result.callerLoopDelayMs = loopDelay(loop, 5);
  return result;
}

function emptyResult(name: string, lanes: number, windowMs: number): ScenarioResult {
  return {
    name,
    lanes,
    windowMs,
    windowRequests: 0,
    windowLatenciesMs: [],
    totalRequests: 0,
    byPurpose: {},
    callsStarted: 0,
    callsCompleted: 0,
    windowCalls: 0,
    byScript: {},
    httpErrors: {},
    failures: {},
    durationMs: 0,
    callerLoopDelayMs: { p50: 0, p99: 0, max: 0 },
  };
}

/** Several runs of one scenario (slices interleaved with another's) as one: counts summed, samples pooled. */
export function mergeResults(name: string, results: readonly ScenarioResult[]): ScenarioResult {
  const merged = emptyResult(name, results[0]?.lanes ?? 0, 0);
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
  };
  for (const result of results) {
    merged.windowMs += result.windowMs;
    merged.windowRequests += result.windowRequests;
    for (const ms of result.windowLatenciesMs) merged.windowLatenciesMs.push(ms);
    merged.totalRequests += result.totalRequests;
    for (const [purpose, list] of Object.entries(result.byPurpose)) for (const ms of list) (merged.byPurpose[purpose] ??= []).push(ms);
    merged.callsStarted += result.callsStarted;
    merged.callsCompleted += result.callsCompleted;
    merged.windowCalls += result.windowCalls;
    add(merged.byScript, result.byScript);
    add(merged.httpErrors, result.httpErrors);
    for (const [key, { count, example }] of Object.entries(result.failures)) {
      const entry = (merged.failures[key] ??= { count: 0, example });
      entry.count += count;
    }
    merged.durationMs += result.durationMs;
    // Slices are short and alike: the worst slice stands for the whole.
    merged.callerLoopDelayMs = {
      p50: Math.max(merged.callerLoopDelayMs.p50, result.callerLoopDelayMs.p50),
      p99: Math.max(merged.callerLoopDelayMs.p99, result.callerLoopDelayMs.p99),
      max: Math.max(merged.callerLoopDelayMs.max, result.callerLoopDelayMs.max),
    };
  }
  return merged;
}
