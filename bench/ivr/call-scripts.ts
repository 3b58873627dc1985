import { performance } from 'node:perf_hooks';
import { createSimulatedCall, type CallEvent, type SimulatedCall } from '../../ivr/simulator/call.ts';

/**
 * Drives many simulated calls through the IVR's real menu paths, for the benchmark (bench/ivr) and
 * soak tests: every request signed as Twilio signs it, order status with real order lookups,
 * callers pausing between steps like people do. Each call is checked as it goes: an application
 * error, a simulator warning, or a missing expected prompt fails the call.
 */

export const CALL_SCRIPTS = ['order_status_keys_en', 'order_status_speech_es', 'hours_keys_es', 'new_releases_speech_en', 'tty_keys_en', 'rep_or_callback_en'] as const;
export type CallScriptName = (typeof CALL_SCRIPTS)[number];

export interface OrderFixture {
  orderNumber: string;
  /** Billing ZIP (5 digits). */
  zip: string;
}

export interface DriveOptions {
  /** The public base URL the IVR checks signatures against (PUBLIC_BASE_URL). */
  publicBaseUrl: string;
  /** Where the app actually listens, when that is not the public base (e.g. http://127.0.0.1:3000). */
  connectTo?: string;
  /** The token webhooks are signed with: `services.phone.authToken`. */
  authToken: string;
  calls: number;
  /** Calls in flight at once (default: all of them). */
  concurrency?: number;
  /** A caller's pause before each action, in ms (a function for varied pauses). Default 0. */
  thinkTimeMs?: number | (() => number);
  /** Scripts, used in rotation. Default: all; the order scripts need `orders`. */
  scripts?: readonly CallScriptName[];
  /** Orders that exist, with their billing ZIP: what the order-status scripts enter. */
  orders?: readonly OrderFixture[];
  /** First caller number; each call adds one (E.164, default +13025550000). */
  firstCaller?: number;
  fetchImpl?: typeof fetch;
  requestTimeoutMs?: number;
  /** Every webhook request as it completes. */
  onRequest?: (sample: { purpose: string; ms: number; status: number | null }) => void;
}

export interface DriveResult {
  calls: number;
  completed: number;
  failed: { callSid: string; script: CallScriptName; reason: string }[];
  /** Webhook requests made, and the latency of each in ms as the simulated Twilio saw it. */
  requests: number;
  latenciesMs: number[];
  durationMs: number;
  byScript: Partial<Record<CallScriptName, number>>;
}

type Step = (call: SimulatedCall) => Promise<void>;

const SPANISH_DIGITS = ['cero', 'uno', 'dos', 'tres', 'cuatro', 'cinco', 'seis', 'siete', 'ocho', 'nueve'];
const spanishWords = (digits: string) => digits.split('').map((d) => SPANISH_DIGITS[Number(d)]).join(' ');

class ScriptFailure extends Error {}

function expectHeard(call: SimulatedCall, text: string): void {
  if (!call.lastPrompt().includes(text)) throw new ScriptFailure(`expected to hear "${text}"`);
}

/** The caller's actions of each script, after the call is answered. */
function scriptSteps(script: CallScriptName, order: OrderFixture | undefined): Step[] {
  const needOrder = () => {
    if (!order) throw new ScriptFailure(`${script} needs orders to look up`);
    return order;
  };
  switch (script) {
    case 'order_status_keys_en':
      return [
        (c) => c.press('1'),
        (c) => c.timeout(),
        (c) => c.press('1'),
        (c) => c.press(needOrder().orderNumber),
        async (c) => {
          await c.press(needOrder().zip);
          expectHeard(c, 'I found order');
        },
        (c) => c.hangup(),
      ];
    case 'order_status_speech_es':
      return [
        (c) => c.say('español'),
        (c) => c.timeout(),
        (c) => c.say('estado de mi pedido'),
        (c) => c.say(spanishWords(needOrder().orderNumber)),
        async (c) => {
          await c.say(spanishWords(needOrder().zip));
          expectHeard(c, 'Encontré el pedido');
        },
        (c) => c.hangup(),
      ];
    case 'hours_keys_es':
      return [
        (c) => c.press('2'),
        (c) => c.timeout(),
        async (c) => {
          await c.press('3');
          expectHeard(c, 'disponibles');
        },
        (c) => c.press('*'),
        (c) => c.hangup(),
      ];
    case 'new_releases_speech_en':
      return [
        (c) => c.say('english'),
        (c) => c.press('9'),
        async (c) => {
          await c.say('new releases');
          expectHeard(c, 'catalog');
        },
        (c) => c.hangup(),
      ];
    case 'tty_keys_en':
      return [
        (c) => c.press('1'),
        (c) => c.timeout(),
        async (c) => {
          await c.press('4');
          expectHeard(c, 'relay');
        },
        (c) => c.press('1'),
        (c) => c.hangup(),
      ];
    case 'rep_or_callback_en':
      // In hours the caller waits, hears their place in line and gives up; after hours they leave a callback request.
      return [
        (c) => c.press('1'),
        (c) => c.timeout(),
        (c) => c.press('0'),
        async (c) => {
          if (c.queue) {
            expectHeard(c, 'in line');
            return c.hangup();
          }
          await c.press('1');
          await c.press('1');
          await c.press('2');
          expectHeard(c, 'call you back');
        },
      ];
  }
}

export async function driveSimulatedCalls(options: DriveOptions): Promise<DriveResult> {
  const scripts = options.scripts ?? CALL_SCRIPTS;
  if (scripts.length === 0) throw new TypeError('at least one script is needed');
  const orders = options.orders ?? [];
  const concurrency = Math.max(1, Math.min(options.concurrency ?? options.calls, options.calls));
  const think = typeof options.thinkTimeMs === 'function' ? options.thinkTimeMs : () => (options.thinkTimeMs as number | undefined) ?? 0;
  const firstCaller = options.firstCaller ?? 13025550000;
  const result: DriveResult = { calls: options.calls, completed: 0, failed: [], requests: 0, latenciesMs: [], durationMs: 0, byScript: {} };
  const began = performance.now();
  let next = 0;

  const onEvent = (event: CallEvent) => {
    if (event.type !== 'http') return;
    result.requests += 1;
    result.latenciesMs.push(event.ms);
    options.onRequest?.({ purpose: event.purpose, ms: event.ms, status: event.status });
  };

  async function runOne(index: number): Promise<void> {
    const script = scripts[index % scripts.length]!;
    const order = orders.length ? orders[index % orders.length] : undefined;
    const call = createSimulatedCall({
      baseUrl: options.publicBaseUrl,
      ...(options.connectTo ? { connectTo: options.connectTo } : {}),
      voicePath: '/ivr/voice',
      authToken: options.authToken,
      from: `+${firstCaller + index}`,
      to: '+12025550199',
      statusCallbackUrl: `${options.publicBaseUrl.replace(/\/+$/, '')}/ivr/status`,
      onEvent,
      ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    });
    try {
      await call.start();
      for (const step of scriptSteps(script, order)) {
        const pause = think();
        if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
        if (call.state === 'completed' || call.state === 'failed') break;
        await step(call);
      }
      if (call.state !== 'completed' && call.state !== 'failed') await call.hangup();
      if (call.applicationError) throw new ScriptFailure(`application error ${call.applicationError.code}: ${call.applicationError.message}`);
      if (call.warnings.length) throw new ScriptFailure(`warnings: ${call.warnings.join('; ')}`);
      result.completed += 1;
      result.byScript[script] = (result.byScript[script] ?? 0) + 1;
    } catch (error) {
      result.failed.push({ callSid: call.callSid, script, reason: error instanceof Error ? error.message : String(error) });
      await call.hangup().catch(() => undefined);
    }
  }

  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < options.calls) await runOne(next++);
    }),
  );
  result.durationMs = Math.round(performance.now() - began);
  return result;
}
