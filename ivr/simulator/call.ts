import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AppError, ConflictError, ValidationError, isAppError } from '../../platform/errors.ts';
import { signTwilioRequest } from '../signature.ts';
import {
  parseTwiml,
  type DialTarget,
  type DialVerb,
  type EnqueueVerb,
  type GatherInput,
  type GatherVerb,
  type HttpMethod,
  type PauseVerb,
  type PlayVerb,
  type RecordVerb,
  type SayVerb,
  type StreamingNoun,
  type TwimlVerb,
} from './twiml.ts';

/**
 * A simulated inbound phone call: plays the part of Twilio against our IVR.
 *
 * It posts signed webhooks exactly as Twilio does, interprets the TwiML answers and pauses wherever a
 * real call would wait for the caller (Gather, Record, a queue). The driver (a test, the benchmark or
 * the browser simulator page) then acts as the caller: `press`, `say`, `timeout`, `hangup`…
 *
 * Anything Twilio would answer with "an application error has occurred" (non-2xx, timeout, wrong
 * content type, unparsable or invalid TwiML) ends the call in state 'failed' with an
 * `application_error` event, so tests can assert the IVR never causes one.
 */

export type CallState =
  | 'idle' // created, start() not called yet
  | 'running' // a webhook is in flight or verbs are executing
  | 'awaiting_input' // a Gather is listening: press(), say() or timeout()
  | 'recording' // a Record verb is recording: press(finishKey), timeout(), finishRecording()
  | 'queued' // waiting in an Enqueue queue: continueWaiting(), leaveQueue(), bridge()
  | 'bridged' // dequeued and talking to an agent: endBridge()
  | 'completed' // the call ended normally (including a caller hangup or a Reject)
  | 'failed'; // the call ended with an application error

export type CallStatus = 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer';
export type EndReason = 'hangup_verb' | 'end_of_document' | 'caller_hangup' | 'rejected' | 'application_error';
export type QueueResult = 'leave' | 'bridged' | 'hangup' | 'redirected';
export type DialCallStatus = 'completed' | 'answered' | 'busy' | 'no-answer' | 'failed' | 'canceled';
export type RequestPurpose =
  | 'voice'
  | 'gather_action'
  | 'redirect'
  | 'wait'
  | 'enqueue_action'
  | 'bridge_announce'
  | 'dial_action'
  | 'record_action'
  | 'status_callback'
  | 'recording_status_callback';
export type ApplicationErrorCode =
  | 'url_not_allowed' // a URL outside the simulated application, or not http(s)
  | 'invalid_url'
  | 'connection' // could not connect / connection reset
  | 'timeout' // no answer within requestTimeoutMs (Twilio: 15 s)
  | 'http_status' // non-2xx (3xx included: Twilio would not re-sign for the new URL and our IVR never redirects)
  | 'content_type' // not XML/HTML
  | 'malformed_twiml' // not well-formed XML, or the root is not <Response>
  | 'invalid_twiml' // an attribute value Twilio rejects
  | 'redirect_loop'
  | 'simulator_error'; // a bug in the simulator or a driver callback

export type CallerAction = 'press' | 'speak' | 'timeout' | 'finish_recording' | 'continue_waiting' | 'leave_queue' | 'bridge' | 'end_bridge' | 'hangup';

export type CallEvent =
  | { type: 'http'; at: Date; purpose: RequestPurpose; method: HttpMethod; url: string; status: number | null; ms: number }
  | { type: 'say'; at: Date; text: string; language: string; voice?: string; loop: number }
  | { type: 'play'; at: Date; url: string; loop: number; digits?: string }
  | { type: 'pause'; at: Date; length: number }
  | {
      type: 'gather';
      at: Date;
      input: GatherInput[];
      numDigits?: number;
      finishOnKey: string;
      timeout: number;
      speechTimeout: number | 'auto';
      actionOnEmptyResult: boolean;
      /** Absolute action URL after resolving against the document URL. */
      action: string;
      method: HttpMethod;
      language: string;
      hints: string[];
    }
  | { type: 'caller'; at: Date; action: CallerAction; digits?: string; speech?: string; confidence?: number }
  | { type: 'input_ignored'; at: Date; reason: string }
  | { type: 'redirect'; at: Date; url: string; method: HttpMethod }
  | { type: 'enqueued'; at: Date; queue: string; queueSid: string }
  | { type: 'bridged'; at: Date; queue: string }
  | { type: 'left_queue'; at: Date; queue: string; result: QueueResult; queueTime: number }
  | { type: 'dialed'; at: Date; targets: DialTarget[]; status: DialCallStatus; durationSeconds: number; recordingSid?: string }
  | { type: 'record'; at: Date; action: string; method: HttpMethod; maxLength: number; timeout: number; finishOnKey: string; playBeep: boolean }
  | { type: 'recorded'; at: Date; recordingSid: string; durationSeconds: number; finishedOnKey?: string }
  | { type: 'start'; at: Date; nouns: StreamingNoun[] }
  | { type: 'stop'; at: Date; nouns: StreamingNoun[] }
  | { type: 'hangup'; at: Date; by: 'twiml' | 'caller' | 'end_of_document' }
  | { type: 'rejected'; at: Date; reason: 'rejected' | 'busy' }
  | { type: 'warning'; at: Date; message: string }
  | {
      type: 'application_error';
      at: Date;
      code: ApplicationErrorCode;
      /** The Twilio debugger code a real call would log (11200, 11205, 12100, 12200, 12300…). */
      twilioCode?: number;
      message: string;
      url?: string;
      status?: number;
    };

export type ApplicationErrorEvent = Extract<CallEvent, { type: 'application_error' }>;

export interface DialOutcome {
  status: DialCallStatus;
  durationSeconds?: number;
}

export interface QueueStats {
  position: number;
  size: number;
  averageWaitSeconds: number;
}

export interface SimulatedCallOptions {
  /**
   * The application's public base URL: what Twilio would be configured with, and what every signature
   * covers (e.g. `https://ivr.example.com`). Use `connectTo` when that is not where the app listens.
   */
  baseUrl: string;
  /** Voice webhook path under baseUrl (e.g. `/ivr/voice`), or an absolute URL. */
  voicePath: string;
  voiceMethod?: HttpMethod;
  authToken: string;
  /** Caller's number (E.164). */
  from: string;
  /** The store's number that was dialled (E.164). */
  to: string;
  accountSid?: string;
  /**
   * Where requests for baseUrl actually go, like a reverse proxy (e.g. `http://127.0.0.1:4321`). The
   * URL is signed as public and sent to this origin, so the Host header is the internal one.
   */
  connectTo?: string;
  fetchImpl?: typeof fetch;
  clock?: () => Date;
  onEvent?: (event: CallEvent) => void;
  onStateChange?: (state: CallState) => void;
  /**
   * Which absolute URLs the simulator may request. Default: only baseUrl's origin, so a simulator
   * driven from a browser page can never be steered into requesting arbitrary hosts.
   */
  allowUrl?: (url: URL) => boolean;
  /** Like a number's status callback URL: posted once when the call ends. Relative to baseUrl. */
  statusCallbackUrl?: string;
  statusCallbackMethod?: HttpMethod;
  /** Decides how each <Dial> ends. Default: answered and completed after 0 s. */
  onDial?: (dial: DialVerb) => DialOutcome | Promise<DialOutcome>;
  /** Queue figures reported to waitUrl. Default: first of one, no average wait. */
  queueStats?: (queue: string) => Partial<QueueStats>;
  /**
   * Most TwiML documents fetched in a row without caller input (Redirect chains, queue/dial action
   * hops) before the call is ended as a redirect loop. Default 20.
   */
  maxRedirects?: number;
  /** Per-request timeout. Default 15 000 ms, Twilio's. */
  requestTimeoutMs?: number;
}

export interface SimulatedCall {
  readonly callSid: string;
  readonly accountSid: string;
  readonly state: CallState;
  /** Every event so far, oldest first. */
  readonly transcript: readonly CallEvent[];
  readonly endReason: EndReason | undefined;
  /** The application error that ended the call, if one did. */
  readonly applicationError: ApplicationErrorEvent | undefined;
  /** Messages of `warning` events (ignored verbs, failed status callbacks…). */
  readonly warnings: string[];
  /** The Gather currently listening (state 'awaiting_input'). */
  readonly pendingGather: GatherVerb | undefined;
  /** Name of the queue the caller is in, if any. */
  readonly queue: string | undefined;
  /** Text of the Say verbs heard since the caller's last action, joined by spaces. */
  lastPrompt(): string;
  /** Posts the voice webhook; resolves when the call next waits for the caller or ends. */
  start(): Promise<void>;
  /**
   * Presses keys (0-9 * #) as one burst followed by silence: the Gather completes on numDigits,
   * on finishOnKey, or by timeout with what was entered. While recording, a finishOnKey key stops it.
   * On hold ('queued') the keys go to the Gather of the queue's wait document, as on a phone.
   */
  press(digits: string): Promise<void>;
  /** Speaks to a speech Gather; ignored (then timing out) if the Gather takes only DTMF. */
  say(speech: string, options?: { confidence?: number }): Promise<void>;
  /** The caller stays silent until the Gather/Record times out. */
  timeout(): Promise<void>;
  /** Ends a Record verb; durationSeconds 0 is an empty recording (Twilio skips the action then). */
  finishRecording(options?: { durationSeconds?: number; key?: string }): Promise<void>;
  /** Simulates Twilio re-requesting waitUrl after the wait document ran out. */
  continueWaiting(): Promise<void>;
  /** Takes the caller out of the queue (as <Leave> or a REST dequeue would): posts the Enqueue action with QueueResult=leave. */
  leaveQueue(): Promise<void>;
  /** An agent dequeues the caller; `url` is the <Queue url> announcement document, relative to baseUrl. */
  bridge(options?: { url?: string; method?: HttpMethod }): Promise<void>;
  /** The agent hangs up: posts the Enqueue action with QueueResult=bridged and continues with its TwiML. */
  endBridge(): Promise<void>;
  /**
   * What Twilio does when the application redirects the live call through the REST API (a Calls
   * update, or a Queue Members update that dequeues it to a URL): a listening Gather is dropped, a
   * queued caller leaves the queue (the Enqueue action is told QueueResult=redirected and its
   * answer ignored) and the call runs the TwiML at `url` (relative to baseUrl).
   */
  redirect(url: string, options?: { method?: HttpMethod }): Promise<void>;
  /** The caller hangs up. Safe in any state, including while a webhook is in flight. */
  hangup(): Promise<void>;
  /** Resolves once the call is in `state`; rejects if it ends in another state or after timeoutMs (default 10 s). */
  waitFor(state: CallState, options?: { timeoutMs?: number }): Promise<void>;
}

/** AccountSid sent when none is configured: recognisably fake, valid in shape. */
export const SIMULATOR_ACCOUNT_SID = `AC${'5'.repeat(32)}`;
/** What Twilio plays in a queue without a waitUrl. */
export const DEFAULT_HOLD_MUSIC_URL = 'http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3';

const TERMINAL: ReadonlySet<CallState> = new Set(['completed', 'failed']);
/** Verbs Twilio executes in a waitUrl document; anything else there is ignored with a warning. */
const WAIT_VERBS: ReadonlySet<TwimlVerb['verb']> = new Set(['say', 'play', 'pause', 'gather', 'redirect', 'leave', 'hangup', 'unknown']);
/** Verbs allowed in a <Queue url> announcement played to the caller before the bridge. */
const ANNOUNCE_VERBS: ReadonlySet<TwimlVerb['verb']> = new Set(['say', 'play', 'pause', 'redirect', 'unknown']);

export function createSimulatedCall(options: SimulatedCallOptions): SimulatedCall {
  return new TwilioCallSimulator(options);
}

interface Doc {
  url: URL;
  verbs: TwimlVerb[];
  /** Next verb to execute. */
  index: number;
}

interface QueueContext {
  name: string;
  sid: string;
  enqueuedAt: Date;
  action?: URL;
  method: HttpMethod;
  waitUrl?: URL;
  waitMethod: HttpMethod;
  /** Where execution resumes when the caller leaves without an action URL: the verb after Enqueue. */
  resume: Doc;
  bridged: boolean;
}

interface PendingGather {
  verb: GatherVerb;
  doc: Doc;
  action: URL;
}

interface PendingRecord {
  verb: RecordVerb;
  doc: Doc;
  action: URL;
  startedAt: Date;
}

interface ActiveRecording {
  sid: string;
  name?: string;
  startedAt: Date;
  channels: 'mono' | 'dual';
  track: string;
  callback?: URL;
  callbackMethod: HttpMethod;
  notifyCompleted: boolean;
}

type HttpResult =
  | { ok: true; status: number; contentType: string; body: string }
  | { ok: false; code: ApplicationErrorCode; twilioCode?: number; message: string; status?: number };

class TwilioCallSimulator implements SimulatedCall {
  readonly callSid = newSid('CA');
  readonly accountSid: string;

  private _state: CallState = 'idle';
  private readonly events: CallEvent[] = [];
  private _endReason: EndReason | undefined;
  private callStatus: CallStatus = 'ringing';
  private startedAt: Date | undefined;
  /** Transcript index just after the caller's latest action: lastPrompt() reads from here. */
  private promptMark = 0;
  private documentsWithoutInput = 0;
  private hangupRequested = false;
  private gather: PendingGather | undefined;
  private recording: PendingRecord | undefined;
  private queueContext: QueueContext | undefined;
  private readonly activeRecordings: ActiveRecording[] = [];
  private readonly waiters = new Set<(state: CallState) => void>();

  private readonly base: URL;
  private readonly basePrefix: string;
  private readonly connectTo: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly clock: () => Date;
  private readonly allowUrl: (url: URL) => boolean;
  private readonly maxRedirects: number;
  private readonly requestTimeoutMs: number;
  private readonly options: SimulatedCallOptions;

  constructor(options: SimulatedCallOptions) {
    this.options = options;
    if (!options.authToken) throw new ValidationError('A simulated call needs the auth token to sign with.', [{ path: 'authToken', code: 'required', message: 'This field is required.' }]);
    this.base = parseHttpUrl(options.baseUrl, 'baseUrl');
    this.basePrefix = this.base.href.replace(/\/+$/, '');
    this.connectTo = options.connectTo === undefined ? undefined : parseHttpUrl(options.connectTo, 'connectTo').href.replace(/\/+$/, '');
    this.accountSid = options.accountSid ?? SIMULATOR_ACCOUNT_SID;
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.clock = options.clock ?? (() => new Date());
    this.allowUrl = options.allowUrl ?? ((url) => url.origin === this.base.origin);
    this.maxRedirects = options.maxRedirects ?? 20;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
  }

  // --- observation --------------------------------------------------------------------------------

  get state(): CallState {
    return this._state;
  }

  get transcript(): readonly CallEvent[] {
    return this.events;
  }

  get endReason(): EndReason | undefined {
    return this._endReason;
  }

  get applicationError(): ApplicationErrorEvent | undefined {
    return this.events.find((e): e is ApplicationErrorEvent => e.type === 'application_error');
  }

  get warnings(): string[] {
    return this.events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
  }

  get pendingGather(): GatherVerb | undefined {
    return this.gather?.verb;
  }

  get queue(): string | undefined {
    return this.queueContext?.name;
  }

  lastPrompt(): string {
    return this.events
      .slice(this.promptMark)
      .flatMap((e) => (e.type === 'say' ? [e.text] : []))
      .join(' ');
  }

  waitFor(target: CallState, options: { timeoutMs?: number } = {}): Promise<void> {
    if (this._state === target) return Promise.resolve();
    if (TERMINAL.has(this._state)) return Promise.reject(this.endedBefore(target));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new AppError('unavailable', 'call.wait_timeout', `The call did not reach '${target}' in time; it is '${this._state}'.`));
      }, options.timeoutMs ?? 10_000);
      const waiter = (state: CallState) => {
        if (state !== target && !TERMINAL.has(state)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        if (state === target) resolve();
        else reject(this.endedBefore(target));
      };
      this.waiters.add(waiter);
    });
  }

  // --- caller actions -----------------------------------------------------------------------------

  start(): Promise<void> {
    return this.act('start', ['idle'], async () => {
      this.startedAt = this.clock();
      const url = /^https?:\/\//i.test(this.options.voicePath)
        ? parseHttpUrl(this.options.voicePath, 'voicePath')
        : new URL(`${this.basePrefix}/${this.options.voicePath.replace(/^\/+/, '')}`);
      await this.run(await this.fetchTwiml(url, this.options.voiceMethod ?? 'POST', {}, 'voice'));
    });
  }

  press(digits: string): Promise<void> {
    if (typeof digits !== 'string' || !/^[0-9*#]+$/.test(digits)) {
      return Promise.reject(new ValidationError('Keys must be 0-9, * or #.', [{ path: 'digits', code: 'invalid_string', message: 'Use only 0-9, * and #.' }], 'call.invalid_digits'));
    }
    if (this._state === 'recording') {
      const key = [...digits].find((k) => this.recording?.verb.finishOnKey.includes(k));
      if (key === undefined) {
        // Keys that are not finishOnKey are just sound on the recording.
        this.callerActed({ action: 'press', digits });
        return Promise.resolve();
      }
      return this.finishRecording({ key });
    }
    if (this._state === 'queued') {
      return this.act(
        'press keys',
        ['queued'],
        async () => {
          /*
           * On hold, what the caller hears is the wait document playing, and a Gather in it hears
           * their keys (the IVR's says "press 1 at any time"). 'queued' is the moment after one wait
           * document ended, when Twilio is already fetching the next: the keys reach that one's Gather.
           */
          await this.run(await this.fetchWait());
          if (this._state === 'awaiting_input' && this.gather && this.queueContext) {
            this.setState('running');
            return this.pressInto(this.takeGather(), digits);
          }
          this.callerActed({ action: 'press', digits });
          this.emit({ type: 'input_ignored', reason: 'No Gather listens in this queue\'s wait document; Twilio ignores key presses on hold.' });
        },
        () => this.requireWaitingInQueue(),
      );
    }
    return this.act('press keys', ['awaiting_input'], () => this.pressInto(this.takeGather(), digits));
  }

  /** The caller's keys reach a listening Gather: it completes on numDigits or finishOnKey. */
  private async pressInto(pending: PendingGather, digits: string): Promise<void> {
    this.callerActed({ action: 'press', digits });
    if (!pending.verb.input.includes('dtmf')) {
      this.emit({ type: 'input_ignored', reason: 'This Gather listens for speech only; Twilio ignores key presses.' });
      return this.run(await this.gatherNoInput(pending));
    }
    const { finishOnKey, numDigits } = pending.verb;
    let captured = '';
    let finishedOnKey = '';
    for (const key of digits) {
      if (finishOnKey !== '' && key === finishOnKey) {
        finishedOnKey = key;
        break;
      }
      captured += key;
      if (numDigits !== undefined && captured.length >= numDigits) break;
    }
    // Only the finish key: Twilio treats that as no input.
    if (captured === '') return this.run(await this.gatherNoInput(pending));
    await this.run(await this.fetchTwiml(pending.action, pending.verb.method, { Digits: captured, FinishedOnKey: finishedOnKey }, 'gather_action'));
  }

  say(speech: string, options: { confidence?: number } = {}): Promise<void> {
    const confidence = options.confidence ?? 0.92;
    if (typeof speech !== 'string' || speech.trim() === '' || !(confidence >= 0 && confidence <= 1)) {
      return Promise.reject(new ValidationError('Speech must be non-empty text with a confidence between 0 and 1.', [], 'call.invalid_speech'));
    }
    return this.act('speak', ['awaiting_input'], async () => {
      const pending = this.takeGather();
      this.callerActed({ action: 'speak', speech, confidence });
      if (!pending.verb.input.includes('speech')) {
        this.emit({ type: 'input_ignored', reason: 'This Gather listens for keys only; speech is not recognised.' });
        return this.run(await this.gatherNoInput(pending));
      }
      await this.run(await this.fetchTwiml(pending.action, pending.verb.method, { SpeechResult: speech.trim(), Confidence: String(confidence) }, 'gather_action'));
    });
  }

  timeout(): Promise<void> {
    if (this._state === 'recording') return this.finishRecording();
    return this.act('time out', ['awaiting_input'], async () => {
      const pending = this.takeGather();
      this.callerActed({ action: 'timeout' });
      await this.run(await this.gatherNoInput(pending));
    });
  }

  finishRecording(options: { durationSeconds?: number; key?: string } = {}): Promise<void> {
    const { durationSeconds, key } = options;
    if ((durationSeconds !== undefined && !(Number.isInteger(durationSeconds) && durationSeconds >= 0)) || (key !== undefined && !/^[0-9*#]$/.test(key))) {
      return Promise.reject(new ValidationError('durationSeconds must be a whole number of seconds and key a single 0-9, * or #.', [], 'call.invalid_recording'));
    }
    return this.act('finish recording', ['recording'], async () => {
      const pending = this.recording;
      if (!pending) throw new Error('recording state without a pending Record');
      this.recording = undefined;
      this.callerActed({ action: 'finish_recording', ...(options.key ? { digits: options.key } : {}) });
      const elapsed = Math.floor((this.clock().getTime() - pending.startedAt.getTime()) / 1000);
      const duration = Math.min(pending.verb.maxLength, options.durationSeconds ?? Math.max(1, elapsed));
      // An empty recording: Twilio skips the action and carries on with the next verb.
      if (duration <= 0) return this.run(pending.doc);
      await this.run(await this.completeRecord(pending, duration, options.key));
    });
  }

  continueWaiting(): Promise<void> {
    return this.act('keep waiting', ['queued'], async () => {
      this.callerActed({ action: 'continue_waiting' });
      await this.run(await this.fetchWait());
    });
  }

  leaveQueue(): Promise<void> {
    return this.act(
      'leave the queue',
      ['queued', 'awaiting_input'],
      async () => {
        this.gather = undefined;
        this.callerActed({ action: 'leave_queue' });
        await this.run(await this.leave('leave'));
      },
      () => this.requireWaitingInQueue(),
    );
  }

  bridge(options: { url?: string; method?: HttpMethod } = {}): Promise<void> {
    return this.act(
      'bridge',
      ['queued', 'awaiting_input'],
      () => this.bridgeNow(options),
      () => this.requireWaitingInQueue(),
    );
  }

  private requireWaitingInQueue(): void {
    // 'awaiting_input' qualifies only for a Gather inside the wait document.
    if (!this.queueContext || this.queueContext.bridged) throw new ConflictError('call.not_queued', 'The caller is not waiting in a queue.');
  }

  private async bridgeNow(options: { url?: string; method?: HttpMethod }): Promise<void> {
    const q = this.queueContext;
    if (!q) throw new Error('bridge outside a queue');
    this.gather = undefined;
    this.callerActed({ action: 'bridge' });
    q.bridged = true;
    this.emit({ type: 'bridged', queue: q.name });
    if (options.url === undefined) return this.setState('bridged');
    const url = await this.resolveOrFail(options.url, this.base);
    if (!url) return;
    const params = { QueueSid: q.sid, QueueTime: String(this.queueTime(q)), DequeingCallSid: newSid('CA') };
    await this.run(await this.fetchTwiml(url, options.method ?? 'POST', params, 'bridge_announce'));
  }

  redirect(url: string, options: { method?: HttpMethod } = {}): Promise<void> {
    return this.act('redirect', ['awaiting_input', 'queued'], async () => {
      this.gather = undefined;
      // An outside action, like the caller's: the document chain starts afresh.
      this.documentsWithoutInput = 0;
      const target = await this.resolveOrFail(url, this.base);
      if (!target) return;
      const q = this.queueContext;
      if (q) {
        this.queueContext = undefined;
        const queueTime = this.queueTime(q);
        this.emit({ type: 'left_queue', queue: q.name, result: 'redirected', queueTime });
        if (q.action) await this.notify(q.action, q.method, { QueueResult: 'redirected', QueueSid: q.sid, QueueTime: String(queueTime) }, 'enqueue_action');
      }
      const method = options.method ?? 'POST';
      this.emit({ type: 'redirect', url: target.href, method });
      await this.run(await this.fetchTwiml(target, method, {}, 'redirect'));
    });
  }

  endBridge(): Promise<void> {
    return this.act('end the bridge', ['bridged'], async () => {
      this.callerActed({ action: 'end_bridge' });
      await this.run(await this.leave('bridged'));
    });
  }

  async hangup(): Promise<void> {
    if (TERMINAL.has(this._state)) return; // a second click on "hang up" is not an error
    if (this._state === 'running') {
      // Twilio notices the hangup once the in-flight webhook returns; so do we.
      this.hangupRequested = true;
      await this.waitForEnd();
      return;
    }
    if (this._state === 'idle') {
      this.callerActed({ action: 'hangup' });
      this.emit({ type: 'hangup', by: 'caller' });
      this._endReason = 'caller_hangup';
      this.callStatus = 'completed';
      this.setState('completed');
      return;
    }
    await this.act('hang up', ['awaiting_input', 'recording', 'queued', 'bridged'], () => this.callerHangup());
  }

  // --- the interpreter ----------------------------------------------------------------------------

  /**
   * Runs caller-triggered work with the call in 'running', so overlapping actions are refused
   * instead of interleaving two webhook conversations.
   */
  private async act(action: string, allowed: readonly CallState[], work: () => Promise<void>, guard?: () => void): Promise<void> {
    if (TERMINAL.has(this._state)) throw new ConflictError('call.ended', `The call has ended; cannot ${action}.`, { state: this._state });
    if (!allowed.includes(this._state)) {
      throw new ConflictError('call.wrong_state', `Cannot ${action} while the call is ${this._state}.`, { state: this._state });
    }
    // A driver mistake is refused here, before 'running': past this point a throw ends the call.
    guard?.();
    this.setState('running');
    try {
      await work();
      if (this.hangupRequested && !TERMINAL.has(this._state)) await this.callerHangup();
      if (this._state === 'running') throw new Error(`the interpreter stopped without settling after "${action}"`);
    } catch (error) {
      if (!TERMINAL.has(this._state)) {
        await this.fail({ code: 'simulator_error', message: `The simulator failed: ${error instanceof Error ? error.message : String(error)}` });
      }
      throw error;
    }
  }

  /**
   * Executes verbs from `doc` until the call waits for the caller or ends. Each verb handler returns
   * the document to continue with, or undefined once the call has settled (waiting or ended).
   */
  private async run(start: Doc | undefined): Promise<void> {
    let doc = start;
    while (doc) {
      if (this.hangupRequested) return this.callerHangup();
      const verb = doc.verbs[doc.index];
      if (verb === undefined) return this.endOfDocument();
      doc.index += 1;
      // Twilio answers the call as soon as it executes anything but a leading <Reject>.
      if (verb.verb !== 'reject' && this.callStatus === 'ringing') this.callStatus = 'in-progress';
      const q = this.queueContext;
      const allowed = q === undefined ? undefined : q.bridged ? ANNOUNCE_VERBS : WAIT_VERBS;
      if (allowed && !allowed.has(verb.verb)) {
        this.warn(`<${capitalize(verb.verb)}> is not allowed in a ${q?.bridged ? 'queue announcement' : 'waitUrl'} document; Twilio ignores it.`);
        continue;
      }
      doc = await this.execute(verb, doc);
    }
  }

  private async execute(verb: TwimlVerb, doc: Doc): Promise<Doc | undefined> {
    switch (verb.verb) {
      case 'say':
      case 'play':
      case 'pause':
        this.prompt(verb);
        return doc;
      case 'gather':
        return this.beginGather(verb, doc);
      case 'redirect': {
        const url = await this.resolveOrFail(verb.url, doc.url);
        if (!url) return undefined;
        this.emit({ type: 'redirect', url: url.href, method: verb.method });
        return this.fetchTwiml(url, verb.method, {}, 'redirect');
      }
      case 'enqueue':
        return this.enqueue(verb, doc);
      case 'leave':
        if (!this.queueContext) {
          this.warn('<Leave> outside a queue does nothing; Twilio ignores it.');
          return doc;
        }
        return this.leave('leave');
      case 'dial':
        return this.dial(verb, doc);
      case 'record':
        return this.beginRecord(verb, doc);
      case 'hangup':
        this.emit({ type: 'hangup', by: 'twiml' });
        await this.notifyQueueAction('hangup');
        await this.end('completed', 'hangup_verb');
        return undefined;
      case 'reject':
        if (this.callStatus !== 'ringing') {
          // Only a leading <Reject> refuses the call; later it can only hang up an answered call.
          this.warn('<Reject> after the call was answered acts as <Hangup>.');
          this.emit({ type: 'hangup', by: 'twiml' });
          await this.end('completed', 'hangup_verb');
          return undefined;
        }
        this.emit({ type: 'rejected', reason: verb.reason });
        await this.end('completed', 'rejected', verb.reason === 'busy' ? 'busy' : 'no-answer');
        return undefined;
      case 'start':
        this.emit({ type: 'start', nouns: verb.nouns });
        for (const noun of verb.nouns) if (noun.type === 'recording') this.startRecording(noun, doc);
        return doc;
      case 'stop': {
        this.emit({ type: 'stop', nouns: verb.nouns });
        for (const noun of verb.nouns) {
          if (noun.type === 'recording') await this.stopRecordings(noun.name);
        }
        return doc;
      }
      case 'unknown':
        this.warn(verb.name === '#text' ? `Stray text in <Response> is ignored: "${verb.text}".` : `Unsupported verb <${verb.name}> was skipped.`);
        return doc;
    }
  }

  private prompt(verb: SayVerb | PlayVerb | PauseVerb): void {
    if (verb.verb === 'say') {
      this.emit({ type: 'say', text: verb.text, language: verb.language ?? 'en-US', ...(verb.voice ? { voice: verb.voice } : {}), loop: verb.loop });
    } else if (verb.verb === 'play') {
      this.emit({ type: 'play', url: verb.url, loop: verb.loop, ...(verb.digits !== undefined ? { digits: verb.digits } : {}) });
    } else {
      this.emit({ type: 'pause', length: verb.length });
    }
  }

  private async beginGather(verb: GatherVerb, doc: Doc): Promise<undefined> {
    // Without an action Twilio posts back to the document that holds the Gather.
    const action = verb.action === undefined ? doc.url : await this.resolveOrFail(verb.action, doc.url);
    if (!action) return undefined;
    for (const nested of verb.nested) {
      if (nested.verb === 'unknown') this.warn(`<${nested.name}> cannot be nested in <Gather>; Twilio ignores it.`);
      else this.prompt(nested);
    }
    this.emit({
      type: 'gather',
      input: verb.input,
      ...(verb.numDigits !== undefined ? { numDigits: verb.numDigits } : {}),
      finishOnKey: verb.finishOnKey,
      timeout: verb.timeout,
      speechTimeout: verb.speechTimeout,
      actionOnEmptyResult: verb.actionOnEmptyResult,
      action: action.href,
      method: verb.method,
      language: verb.language,
      hints: verb.hints,
    });
    this.gather = { verb, doc, action };
    this.setState('awaiting_input');
    return undefined;
  }

  private takeGather(): PendingGather {
    const pending = this.gather;
    if (!pending) throw new Error('awaiting_input without a pending Gather');
    this.gather = undefined;
    return pending;
  }

  /** Twilio: no input falls through to the verb after the Gather, unless actionOnEmptyResult. */
  private async gatherNoInput(pending: PendingGather): Promise<Doc | undefined> {
    if (!pending.verb.actionOnEmptyResult) return pending.doc;
    return this.fetchTwiml(pending.action, pending.verb.method, {}, 'gather_action');
  }

  private async enqueue(verb: EnqueueVerb, doc: Doc): Promise<Doc | undefined> {
    const action = verb.action === undefined ? undefined : await this.resolveOrFail(verb.action, doc.url);
    const waitUrl = verb.waitUrl === undefined ? undefined : await this.resolveOrFail(verb.waitUrl, doc.url);
    if (TERMINAL.has(this._state)) return undefined;
    const q: QueueContext = {
      name: verb.queue,
      sid: queueSid(this.accountSid, verb.queue),
      enqueuedAt: this.clock(),
      ...(action ? { action } : {}),
      method: verb.method,
      ...(waitUrl ? { waitUrl } : {}),
      waitMethod: verb.waitUrlMethod,
      resume: doc,
      bridged: false,
    };
    this.queueContext = q;
    this.emit({ type: 'enqueued', queue: q.name, queueSid: q.sid });
    return this.fetchWait();
  }

  private async fetchWait(): Promise<Doc | undefined> {
    const q = this.queueContext;
    if (!q) throw new Error('fetchWait outside a queue');
    if (!q.waitUrl) {
      this.emit({ type: 'play', url: DEFAULT_HOLD_MUSIC_URL, loop: 0 });
      this.setState('queued');
      return undefined;
    }
    const stats = { position: 1, size: 1, averageWaitSeconds: 0, ...this.options.queueStats?.(q.name) };
    const params = {
      QueueSid: q.sid,
      QueuePosition: String(stats.position),
      CurrentQueueSize: String(stats.size),
      QueueTime: String(this.queueTime(q)),
      AvgQueueTime: String(stats.averageWaitSeconds),
    };
    return this.fetchTwiml(q.waitUrl, q.waitMethod, params, 'wait');
  }

  /** The caller leaves the queue alive (Leave, REST dequeue, or the bridge ended). */
  private async leave(result: 'leave' | 'bridged'): Promise<Doc | undefined> {
    const q = this.queueContext;
    if (!q) throw new Error('leave outside a queue');
    this.queueContext = undefined;
    this.gather = undefined;
    const queueTime = this.queueTime(q);
    this.emit({ type: 'left_queue', queue: q.name, result, queueTime });
    // Without an action, Twilio continues with the verb after <Enqueue>.
    if (!q.action) return q.resume;
    return this.fetchTwiml(q.action, q.method, { QueueResult: result, QueueSid: q.sid, QueueTime: String(queueTime) }, 'enqueue_action');
  }

  /** The call ends while queued or bridged: Twilio still reports the outcome to the Enqueue action. */
  private async notifyQueueAction(result: QueueResult): Promise<void> {
    const q = this.queueContext;
    if (!q) return;
    this.queueContext = undefined;
    const queueTime = this.queueTime(q);
    const outcome: QueueResult = q.bridged ? 'bridged' : result;
    this.emit({ type: 'left_queue', queue: q.name, result: outcome, queueTime });
    if (!q.action) return;
    this.callStatus = 'completed';
    await this.notify(q.action, q.method, { QueueResult: outcome, QueueSid: q.sid, QueueTime: String(queueTime) }, 'enqueue_action');
  }

  private queueTime(q: QueueContext): number {
    return Math.max(0, Math.floor((this.clock().getTime() - q.enqueuedAt.getTime()) / 1000));
  }

  private async dial(verb: DialVerb, doc: Doc): Promise<Doc | undefined> {
    const action = verb.action === undefined ? undefined : await this.resolveOrFail(verb.action, doc.url);
    if (TERMINAL.has(this._state)) return undefined;
    const outcome = this.options.onDial ? await this.options.onDial(verb) : { status: 'completed' as const, durationSeconds: 0 };
    const duration = Math.max(0, Math.floor(outcome.durationSeconds ?? 0));
    const connected = outcome.status === 'completed' || outcome.status === 'answered';
    const recordingSid = connected && verb.record !== 'do-not-record' ? newSid('RE') : undefined;
    this.emit({ type: 'dialed', targets: verb.targets, status: outcome.status, durationSeconds: duration, ...(recordingSid ? { recordingSid } : {}) });
    const params: Record<string, string> = {
      DialCallStatus: outcome.status,
      DialCallSid: newSid('CA'),
      DialCallDuration: String(duration),
      DialBridged: String(connected),
    };
    if (recordingSid) {
      Object.assign(params, this.recordingParams(recordingSid, duration));
      if (verb.recordingStatusCallback !== undefined && verb.recordingStatusCallbackEvent.includes('completed')) {
        const callback = await this.resolveOrWarn(verb.recordingStatusCallback, doc.url);
        if (callback) {
          const channels = verb.record.endsWith('-dual') ? '2' : '1';
          await this.notify(callback, verb.recordingStatusCallbackMethod, this.recordingStatusParams(recordingSid, duration, channels, 'DialVerb', this.clock()), 'recording_status_callback');
        }
      }
    }
    // Without an action, Twilio continues with the verb after <Dial>.
    if (!action) return doc;
    return this.fetchTwiml(action, verb.method, params, 'dial_action');
  }

  private async beginRecord(verb: RecordVerb, doc: Doc): Promise<undefined> {
    // Like Gather, Record posts back to its own document when it has no action.
    const action = verb.action === undefined ? doc.url : await this.resolveOrFail(verb.action, doc.url);
    if (!action) return undefined;
    this.emit({ type: 'record', action: action.href, method: verb.method, maxLength: verb.maxLength, timeout: verb.timeout, finishOnKey: verb.finishOnKey, playBeep: verb.playBeep });
    this.recording = { verb, doc, action, startedAt: this.clock() };
    this.setState('recording');
    return undefined;
  }

  private async completeRecord(pending: PendingRecord, duration: number, key: string | undefined): Promise<Doc | undefined> {
    const params = await this.deliverRecording(pending, duration, key);
    return this.fetchTwiml(pending.action, pending.verb.method, params, 'record_action');
  }

  /**
   * Emits the finished recording, posts its status callback, and returns the Record action
   * parameters. `digits` is the finishing key, 'hangup', or undefined after a silence timeout.
   * Transcription (transcribe/transcribeCallback) is not simulated: it would need real audio.
   */
  private async deliverRecording(pending: PendingRecord, duration: number, digits: string | undefined): Promise<Record<string, string>> {
    const sid = newSid('RE');
    this.emit({ type: 'recorded', recordingSid: sid, durationSeconds: duration, ...(digits ? { finishedOnKey: digits } : {}) });
    const { verb } = pending;
    if (verb.recordingStatusCallback !== undefined && verb.recordingStatusCallbackEvent.includes('completed')) {
      const callback = await this.resolveOrWarn(verb.recordingStatusCallback, pending.doc.url);
      if (callback) await this.notify(callback, verb.recordingStatusCallbackMethod, this.recordingStatusParams(sid, duration, '1', 'RecordVerb', pending.startedAt), 'recording_status_callback');
    }
    return { ...this.recordingParams(sid, duration), ...(digits ? { Digits: digits } : {}) };
  }

  private startRecording(noun: Extract<StreamingNoun, { type: 'recording' }>, doc: Doc): void {
    let callback: URL | undefined;
    if (noun.recordingStatusCallback !== undefined) {
      try {
        callback = new URL(noun.recordingStatusCallback, doc.url);
      } catch {
        this.warn(`Invalid recordingStatusCallback "${noun.recordingStatusCallback}".`);
      }
    }
    this.activeRecordings.push({
      sid: newSid('RE'),
      ...(noun.name !== undefined ? { name: noun.name } : {}),
      startedAt: this.clock(),
      channels: noun.channels,
      track: noun.track,
      ...(callback ? { callback } : {}),
      callbackMethod: noun.recordingStatusCallbackMethod,
      notifyCompleted: noun.recordingStatusCallbackEvent.includes('completed'),
    });
  }

  /** Stops <Start><Recording>s (by name, or all when unnamed) and posts their status callbacks. */
  private async stopRecordings(name: string | undefined): Promise<void> {
    const stopping = this.activeRecordings.filter((r) => name === undefined || r.name === name);
    for (const r of stopping) {
      this.activeRecordings.splice(this.activeRecordings.indexOf(r), 1);
      if (!r.callback || !r.notifyCompleted) continue;
      const duration = Math.max(0, Math.floor((this.clock().getTime() - r.startedAt.getTime()) / 1000));
      const params = { ...this.recordingStatusParams(r.sid, duration, r.channels === 'dual' ? '2' : '1', 'StartCallRecordingTwiML', r.startedAt), RecordingTrack: r.track };
      await this.notify(r.callback, r.callbackMethod, params, 'recording_status_callback');
    }
  }

  private recordingParams(sid: string, duration: number): Record<string, string> {
    return { RecordingSid: sid, RecordingUrl: this.recordingUrl(sid), RecordingDuration: String(duration) };
  }

  private recordingStatusParams(sid: string, duration: number, channels: string, source: string, startedAt: Date): Record<string, string> {
    return {
      ...this.recordingParams(sid, duration),
      RecordingStatus: 'completed',
      RecordingChannels: channels,
      RecordingSource: source,
      RecordingStartTime: startedAt.toUTCString(),
    };
  }

  private recordingUrl(sid: string): string {
    return `https://api.twilio.com/2010-04-01/Accounts/${this.accountSid}/Recordings/${sid}`;
  }

  private async endOfDocument(): Promise<void> {
    const q = this.queueContext;
    if (q) {
      // A finished wait document leaves the caller waiting (Twilio would re-request waitUrl: continueWaiting()).
      this.setState(q.bridged ? 'bridged' : 'queued');
      return;
    }
    this.emit({ type: 'hangup', by: 'end_of_document' });
    await this.end('completed', 'end_of_document');
  }

  private async callerHangup(): Promise<void> {
    this.hangupRequested = false;
    this.callerActed({ action: 'hangup' });
    this.emit({ type: 'hangup', by: 'caller' });
    this.gather = undefined;
    const recording = this.recording;
    this.recording = undefined;
    this.callStatus = 'completed';
    if (recording) {
      // Twilio still delivers what was recorded, with Digits=hangup; nobody hears the response.
      const elapsed = Math.min(recording.verb.maxLength, Math.max(1, Math.floor((this.clock().getTime() - recording.startedAt.getTime()) / 1000)));
      const params = await this.deliverRecording(recording, elapsed, 'hangup');
      await this.notify(recording.action, recording.verb.method, params, 'record_action');
    }
    await this.notifyQueueAction('hangup');
    await this.end('completed', 'caller_hangup');
  }

  private async fail(error: { code: ApplicationErrorCode; message: string; twilioCode?: number; url?: string; status?: number }): Promise<void> {
    this.emit({ type: 'application_error', ...error });
    await this.end('failed', 'application_error');
  }

  private async end(state: 'completed' | 'failed', reason: EndReason, finalStatus: CallStatus = 'completed'): Promise<void> {
    this.gather = undefined;
    this.recording = undefined;
    this.queueContext = undefined;
    this.hangupRequested = false;
    this.callStatus = finalStatus;
    this._endReason = reason;
    await this.stopRecordings(undefined);
    if (this.options.statusCallbackUrl !== undefined) {
      const url = await this.resolveOrWarn(this.options.statusCallbackUrl, this.base);
      const duration = this.startedAt && finalStatus === 'completed' ? Math.max(0, Math.floor((this.clock().getTime() - this.startedAt.getTime()) / 1000)) : 0;
      if (url) {
        await this.notify(url, this.options.statusCallbackMethod ?? 'POST', { CallDuration: String(duration), Timestamp: this.clock().toUTCString(), CallbackSource: 'call-progress-events' }, 'status_callback');
      }
    }
    this.setState(state);
  }

  // --- HTTP ---------------------------------------------------------------------------------------

  /** Fetches and parses a TwiML document; on any failure ends the call as Twilio would and returns undefined. */
  private async fetchTwiml(url: URL, method: HttpMethod, extra: Record<string, string>, purpose: RequestPurpose): Promise<Doc | undefined> {
    this.documentsWithoutInput += 1;
    if (this.documentsWithoutInput > this.maxRedirects) {
      await this.fail({ code: 'redirect_loop', message: `More than ${this.maxRedirects} TwiML documents in a row without caller input; stopped at ${url.href}.`, url: url.href });
      return undefined;
    }
    const result = await this.request(url, method, extra, purpose);
    if (!result.ok) {
      const { ok: _ok, ...error } = result;
      await this.fail({ ...error, url: url.href });
      return undefined;
    }
    if (!/xml|html/i.test(result.contentType)) {
      await this.fail({ code: 'content_type', twilioCode: 12300, message: `Content-Type "${result.contentType || 'none'}" is not TwiML.`, url: url.href, status: result.status });
      return undefined;
    }
    try {
      return { url, verbs: parseTwiml(result.body), index: 0 };
    } catch (error) {
      if (!isAppError(error)) throw error;
      const invalid = error.code === 'twiml.invalid';
      await this.fail({ code: invalid ? 'invalid_twiml' : 'malformed_twiml', twilioCode: invalid ? 12200 : 12100, message: error.message, url: url.href, status: result.status });
      return undefined;
    }
  }

  /** Fire-and-report requests (status callbacks): Twilio ignores their answers, so failures only warn. */
  private async notify(url: URL, method: HttpMethod, extra: Record<string, string>, purpose: RequestPurpose): Promise<void> {
    const result = await this.request(url, method, extra, purpose);
    if (!result.ok) this.warn(`${purpose} to ${url.href} failed: ${result.message}`);
  }

  private async request(url: URL, method: HttpMethod, extra: Record<string, string>, purpose: RequestPurpose): Promise<HttpResult> {
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !this.allowUrl(url)) {
      return { ok: false, code: 'url_not_allowed', twilioCode: 11100, message: `${url.href} is outside the simulated application.` };
    }
    const params = { ...this.callParams(), ...extra };
    // GET carries the parameters in the query and Twilio signs that full URL with no body params.
    const target = new URL(url);
    if (method === 'GET') for (const [key, value] of Object.entries(params)) target.searchParams.append(key, value);
    const signedUrl = target.href;
    const signature = signTwilioRequest(this.options.authToken, signedUrl, method === 'POST' ? params : {});
    const headers: Record<string, string> = {
      'X-Twilio-Signature': signature,
      'User-Agent': 'TwilioProxy/1.1',
      Accept: '*/*',
      'I-Twilio-Idempotency-Token': randomUUID(),
    };
    if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const began = performance.now();
    let status: number | null = null;
    try {
      const response = await this.fetchImpl(this.physicalUrl(signedUrl), {
        method,
        headers,
        ...(method === 'POST' ? { body: new URLSearchParams(params).toString() } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      status = response.status;
      const body = await response.text();
      if (status < 200 || status > 299) {
        return { ok: false, code: 'http_status', twilioCode: 11200, message: `${method} ${signedUrl} answered HTTP ${status}.`, status };
      }
      return { ok: true, status, contentType: response.headers.get('content-type') ?? '', body };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return {
        ok: false,
        code: timedOut ? 'timeout' : 'connection',
        twilioCode: 11205,
        message: timedOut ? `${method} ${signedUrl} did not answer within ${this.requestTimeoutMs} ms.` : `${method} ${signedUrl} failed: ${error instanceof Error ? error.message : String(error)}`,
        ...(status === null ? {} : { status }),
      };
    } finally {
      this.emit({ type: 'http', purpose, method, url: signedUrl, status, ms: Math.round(performance.now() - began) });
    }
  }

  /** The standard parameters Twilio sends with every voice webhook. */
  private callParams(): Record<string, string> {
    return {
      AccountSid: this.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: this.callSid,
      CallStatus: this.callStatus,
      Called: this.options.to,
      Caller: this.options.from,
      Direction: 'inbound',
      From: this.options.from,
      To: this.options.to,
    };
  }

  /** Maps a public URL to where the app really listens (connectTo), as a reverse proxy would. */
  private physicalUrl(signedUrl: string): string {
    if (this.connectTo === undefined) return signedUrl;
    const rest = signedUrl.slice(this.basePrefix.length);
    const underBase = signedUrl.startsWith(this.basePrefix) && (rest === '' || /^[/?#]/.test(rest));
    return underBase ? `${this.connectTo}${rest}` : signedUrl;
  }

  private async resolveOrFail(ref: string, base: URL): Promise<URL | undefined> {
    try {
      return new URL(ref, base);
    } catch {
      await this.fail({ code: 'invalid_url', twilioCode: 11100, message: `"${ref}" is not a valid URL.` });
      return undefined;
    }
  }

  private async resolveOrWarn(ref: string, base: URL): Promise<URL | undefined> {
    try {
      return new URL(ref, base);
    } catch {
      this.warn(`"${ref}" is not a valid URL.`);
      return undefined;
    }
  }

  // --- bookkeeping --------------------------------------------------------------------------------

  private callerActed(detail: { action: CallerAction; digits?: string; speech?: string; confidence?: number }): void {
    this.emit({ type: 'caller', ...detail });
    this.promptMark = this.events.length;
    this.documentsWithoutInput = 0;
  }

  private warn(message: string): void {
    this.emit({ type: 'warning', message });
  }

  private emit(event: DistributiveOmit<CallEvent, 'at'>): void {
    const full = { ...event, at: this.clock() } as CallEvent;
    this.events.push(full);
    this.options.onEvent?.(full);
  }

  private setState(state: CallState): void {
    if (state === this._state) return;
    this._state = state;
    this.options.onStateChange?.(state);
    for (const waiter of [...this.waiters]) waiter(state);
  }

  private waitForEnd(): Promise<void> {
    if (TERMINAL.has(this._state)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = (state: CallState) => {
        if (!TERMINAL.has(state)) return;
        this.waiters.delete(waiter);
        resolve();
      };
      this.waiters.add(waiter);
    });
  }

  private endedBefore(target: CallState): ConflictError {
    const error = this.applicationError;
    const why = error ? `application error ${error.code}: ${error.message}` : `ended by ${this._endReason ?? 'unknown'}`;
    return new ConflictError('call.ended', `The call ${this._state} (${why}) before reaching '${target}'.`, { state: this._state });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function newSid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

/** Same queue name, same QueueSid, as with a real Twilio queue. */
function queueSid(accountSid: string, name: string): string {
  return `QU${createHash('sha256').update(`${accountSid}\0${name}`).digest('hex').slice(0, 32)}`;
}

function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function parseHttpUrl(value: string, field: string): URL {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError(`${field} must be an absolute http(s) URL.`, [{ path: field, code: 'invalid_url', message: 'Use an absolute http(s) URL.' }]);
}
