import { EventEmitter } from 'node:events';
import { ConflictError, NotFoundError, RateLimitedError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { createSimulatedCall, type CallEvent, type CallState, type DialOutcome, type SimulatedCall } from './call.ts';

/**
 * The simulated phone network: the live simulated calls of this process. It places calls into the
 * IVR (each a `createSimulatedCall` that signs its webhooks like Twilio), plays Twilio's part when
 * mintdesk dequeues a caller for a rep (`redirect`), and stands in for the rep's phone: a `<Dial>`
 * stays connected until `endRepLeg` (or the caller hangs up).
 *
 * In-process only, like the rest of the embedded defaults: with several API processes a call lives
 * in the one whose simulator page placed it.
 */

export interface SimulatorRegistryOptions {
  /** What Twilio would be configured with: every simulated request is signed for this base. */
  publicBaseUrl: string;
  authToken: string;
  /** The store's number that callers dial. */
  storeNumber: string;
  logger: Logger;
  /** At most this many live calls (default 25): the page is for people, not load. */
  maxCalls?: number;
  /** A call nobody touched for this long is hung up (default 15 minutes). */
  idleMs?: number;
}

export interface PlaceCallOptions {
  /** The caller's number (E.164); default a 555 test number. */
  from?: string;
  /** Where the app really listens when that is not the public base (e.g. `http://127.0.0.1:3000`). */
  connectTo?: string;
  /**
   * Play the waiting caller's hold loop in real time: re-request the wait document (or let its
   * Gather time out) every `holdLoopMs`, as Twilio does when the hold audio ends. Off by default:
   * tests and the benchmark drive the queue themselves.
   */
  holdLoopMs?: number;
  /** The simulated network's clock (queue times, recording start); tests move it. */
  clock?: () => Date;
}

export interface RepLeg {
  startedAt: number;
  recorded: boolean;
  targets: string[];
}

export interface LiveSimCall {
  readonly id: string;
  readonly call: SimulatedCall;
  readonly from: string;
  readonly createdAt: Date;
  readonly events: EventEmitter;
  /** The rep leg being dialled or talking, if any. */
  repLeg(): RepLeg | undefined;
}

interface Entry extends LiveSimCall {
  lastActivity: number;
  leg?: RepLeg & { resolve: (outcome: DialOutcome) => void };
  holdTimer?: NodeJS.Timeout;
  holdLoopMs?: number;
  enqueuedAt?: number;
  /** The last wait document listened for keys: once it ends, Twilio fetches the next one at once. */
  waitListened?: boolean;
}

/** The gap between one wait document running out (its Gather timed out) and the next one playing. */
const NEXT_WAIT_DOCUMENT_MS = 500;

export interface SimulatorRegistry {
  place(options?: PlaceCallOptions): LiveSimCall;
  get(id: string): LiveSimCall | undefined;
  /** Like a Twilio REST redirect: returns once the network took the request, not when the call settles. */
  redirect(callSid: string, url: string): Promise<void>;
  /** Resolves when the call's rep leg starts ringing (its `<Dial>` runs). */
  waitForRepLeg(callSid: string, timeoutMs?: number): Promise<RepLeg>;
  /** The rep hangs up (or never answers): the `<Dial>` ends with this status. */
  endRepLeg(callSid: string, outcome?: { status?: DialOutcome['status']; durationSeconds?: number }): boolean;
  hangup(callSid: string): Promise<void>;
  size(): number;
  close(): Promise<void>;
}

export function createSimulatorRegistry(options: SimulatorRegistryOptions): SimulatorRegistry {
  const calls = new Map<string, Entry>();
  const maxCalls = options.maxCalls ?? 25;
  const idleMs = options.idleMs ?? 15 * 60_000;
  let nextCaller = 100;

  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const entry of calls.values()) {
      if (now - entry.lastActivity > idleMs) void hangupEntry(entry).catch(() => undefined);
    }
  }, 60_000);
  sweeper.unref();

  function requireEntry(callSid: string): Entry {
    const entry = calls.get(callSid);
    if (!entry) throw new NotFoundError('simulated_call', 'simulator.call_not_found', 'No such simulated call.');
    return entry;
  }

  /** Position among this network's callers in the same queue, as Twilio would report it. */
  function queueStats(self: Entry, queue: string) {
    const waiting = [...calls.values()].filter((e) => e.call.queue === queue && e.enqueuedAt !== undefined).sort((a, b) => a.enqueuedAt! - b.enqueuedAt!);
    const position = Math.max(1, waiting.indexOf(self) + 1);
    const now = Date.now();
    const averageWaitSeconds = waiting.length ? Math.round(waiting.reduce((t, e) => t + (now - e.enqueuedAt!), 0) / waiting.length / 1000) : 0;
    return { position, size: Math.max(1, waiting.length), averageWaitSeconds };
  }

  function scheduleHold(entry: Entry, state: CallState) {
    if (entry.holdTimer) clearTimeout(entry.holdTimer);
    entry.holdTimer = undefined;
    if (!entry.holdLoopMs || !entry.call.queue) return;
    if (state !== 'queued' && state !== 'awaiting_input') return;
    // The hold audio plays while the wait document's Gather listens; when it ends, the next document follows at once.
    const delay = state === 'queued' && entry.waitListened ? Math.min(NEXT_WAIT_DOCUMENT_MS, entry.holdLoopMs) : entry.holdLoopMs;
    entry.holdTimer = setTimeout(() => {
      const action = entry.call.state === 'queued' ? entry.call.continueWaiting() : entry.call.state === 'awaiting_input' && entry.call.queue ? entry.call.timeout() : undefined;
      void action?.catch(() => undefined);
    }, delay);
    entry.holdTimer.unref();
  }

  async function hangupEntry(entry: Entry): Promise<void> {
    if (entry.leg) {
      const leg = entry.leg;
      entry.leg = undefined;
      leg.resolve({ status: 'completed', durationSeconds: Math.round((Date.now() - leg.startedAt) / 1000) });
    }
    await entry.call.hangup();
  }

  return {
    place(placeOptions = {}) {
      for (const [id, entry] of calls) if (entry.call.state === 'completed' || entry.call.state === 'failed') calls.delete(id);
      if (calls.size >= maxCalls) throw new RateLimitedError(60, 'simulator.too_many_calls', 'Too many simulated calls are live; hang some up first.');
      nextCaller = nextCaller >= 199 ? 100 : nextCaller + 1;
      const from = placeOptions.from ?? `+1202555${String(nextCaller).padStart(4, '0')}`;
      const emitter = new EventEmitter();
      emitter.setMaxListeners(50);
      // eslint-disable-next-line prefer-const -- the call's callbacks need the entry, which needs the call
      let entry: Entry;
      const call = createSimulatedCall({
        baseUrl: options.publicBaseUrl,
        ...(placeOptions.connectTo ? { connectTo: placeOptions.connectTo } : {}),
        voicePath: '/ivr/voice',
        authToken: options.authToken,
        from,
        to: options.storeNumber,
        // Absolute: a root-relative path would drop a path prefix of the public base.
        statusCallbackUrl: `${options.publicBaseUrl.replace(/\/+$/, '')}/ivr/status`,
        ...(placeOptions.clock ? { clock: placeOptions.clock } : {}),
        onEvent: (event: CallEvent) => {
          if (event.type === 'enqueued') entry.enqueuedAt = Date.now();
          if (event.type === 'left_queue') entry.enqueuedAt = undefined;
          if (event.type === 'http' && event.purpose === 'wait') entry.waitListened = false;
          if (event.type === 'gather' && entry.call.queue) entry.waitListened = true;
          emitter.emit('event', event);
        },
        onStateChange: (state) => {
          emitter.emit('state', state);
          scheduleHold(entry, state);
          if (state === 'completed' || state === 'failed') {
            if (entry.holdTimer) clearTimeout(entry.holdTimer);
            emitter.emit('end');
          }
        },
        queueStats: (queue) => queueStats(entry, queue),
        onDial: (dial) =>
          new Promise<DialOutcome>((resolve) => {
            entry.leg = {
              startedAt: Date.now(),
              recorded: dial.record !== 'do-not-record',
              targets: dial.targets.map((t) => ('identity' in t ? t.identity : 'number' in t ? t.number : t.type)),
              resolve,
            };
            emitter.emit('rep-leg', entry.leg);
          }),
      });
      entry = {
        id: call.callSid,
        call,
        from,
        createdAt: new Date(),
        events: emitter,
        lastActivity: Date.now(),
        ...(placeOptions.holdLoopMs ? { holdLoopMs: placeOptions.holdLoopMs } : {}),
        repLeg: () => (entry.leg ? { startedAt: entry.leg.startedAt, recorded: entry.leg.recorded, targets: entry.leg.targets } : undefined),
      };
      calls.set(call.callSid, entry);
      return entry;
    },

    get(id) {
      const entry = calls.get(id);
      if (entry) entry.lastActivity = Date.now();
      return entry;
    },

    async redirect(callSid, url) {
      const entry = requireEntry(callSid);
      const { call } = entry;
      // A webhook may be in flight (a hold loop); Twilio applies the redirect once it returns, so do we.
      if (call.state === 'running') {
        await new Promise<void>((resolve) => {
          const onState = (state: CallState) => {
            if (state === 'running') return;
            clearTimeout(timer);
            entry.events.off('state', onState);
            resolve();
          };
          const timer = setTimeout(() => onState('failed'), 10_000);
          entry.events.on('state', onState);
        });
      }
      if (call.state !== 'queued' && call.state !== 'awaiting_input') {
        throw new ConflictError('simulator.call_not_redirectable', `The simulated call is ${call.state}; it cannot be redirected.`);
      }
      if (entry.holdTimer) clearTimeout(entry.holdTimer);
      void call.redirect(url).catch((error: Error) => options.logger.warn({ err: error.message, callSid }, 'simulated call redirect failed'));
    },

    waitForRepLeg(callSid, timeoutMs = 10_000) {
      const entry = requireEntry(callSid);
      const current = entry.repLeg();
      if (current) return Promise.resolve(current);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          cleanup();
          reject(new ConflictError('simulator.no_rep_leg', 'The call did not dial a rep in time.'));
        }, timeoutMs);
        const onLeg = (leg: RepLeg) => {
          cleanup();
          resolve({ startedAt: leg.startedAt, recorded: leg.recorded, targets: leg.targets });
        };
        const onEnd = () => {
          cleanup();
          reject(new ConflictError('simulator.call_ended', 'The call ended before a rep was dialled.'));
        };
        const cleanup = () => {
          clearTimeout(timer);
          entry.events.off('rep-leg', onLeg);
          entry.events.off('end', onEnd);
        };
        entry.events.on('rep-leg', onLeg);
        entry.events.once('end', onEnd);
      });
    },

    endRepLeg(callSid, outcome = {}) {
      const entry = requireEntry(callSid);
      const leg = entry.leg;
      if (!leg) return false;
      entry.leg = undefined;
      entry.lastActivity = Date.now();
      leg.resolve({ status: outcome.status ?? 'completed', durationSeconds: outcome.durationSeconds ?? Math.round((Date.now() - leg.startedAt) / 1000) });
      return true;
    },

    async hangup(callSid) {
      await hangupEntry(requireEntry(callSid));
    },

    size: () => calls.size,

    async close() {
      clearInterval(sweeper);
      await Promise.allSettled([...calls.values()].map((entry) => hangupEntry(entry)));
      calls.clear();
    },
  };
}
