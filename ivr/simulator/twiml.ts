import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ValidationError, type FieldIssue } from '../../platform/errors.ts';

/**
 * TwiML (voice) parser for the phone-network simulator.
 *
 * The simulator stands in for Twilio, so this parser is deliberately stricter than a tolerant
 * reader: a document Twilio would refuse (not XML, wrong root, an attribute value outside what
 * Twilio accepts) throws, and the simulated call turns that into the "application error" a real
 * caller would hear. Verbs this parser does not model become `{ verb: 'unknown' }` entries instead,
 * so a newer TwiML feature never breaks the simulator; the call reports them as warnings.
 *
 * Defaults follow Twilio's documented defaults, so consumers never re-derive them.
 */

export type HttpMethod = 'GET' | 'POST';
export type Attributes = Readonly<Record<string, string>>;

interface VerbBase {
  /** Every attribute exactly as written, for display and for attributes this model does not type. */
  attributes: Attributes;
}

export interface SayVerb extends VerbBase {
  verb: 'say';
  /** Spoken text, whitespace-collapsed; text inside SSML children (`<emphasis>`, `<say-as>`…) is included. */
  text: string;
  voice?: string;
  language?: string;
  /** Times to repeat; 0 means "until the call moves on" (Twilio caps it at 1000). */
  loop: number;
}

export interface PlayVerb extends VerbBase {
  verb: 'play';
  /** Audio URL; empty when the verb only plays DTMF `digits`. */
  url: string;
  loop: number;
  digits?: string;
}

export interface PauseVerb extends VerbBase {
  verb: 'pause';
  /** Seconds. */
  length: number;
}

export type GatherInput = 'dtmf' | 'speech';

export interface GatherVerb extends VerbBase {
  verb: 'gather';
  input: GatherInput[];
  /** Unset means unlimited: input ends on finishOnKey or timeout. */
  numDigits?: number;
  /** A single key, or '' for none. */
  finishOnKey: string;
  timeout: number;
  speechTimeout: number | 'auto';
  /** Unset means the current document URL (Twilio's default). */
  action?: string;
  method: HttpMethod;
  language: string;
  hints: string[];
  actionOnEmptyResult: boolean;
  /** Prompts played while waiting for input; anything other than Say/Play/Pause is kept as 'unknown'. */
  nested: Array<SayVerb | PlayVerb | PauseVerb | UnknownVerb>;
}

export interface RedirectVerb extends VerbBase {
  verb: 'redirect';
  url: string;
  method: HttpMethod;
}

export interface EnqueueVerb extends VerbBase {
  verb: 'enqueue';
  /** Queue name; '' when a TaskRouter `<Task>` picks the queue. */
  queue: string;
  action?: string;
  method: HttpMethod;
  /** Unset means Twilio's default hold music. */
  waitUrl?: string;
  waitUrlMethod: HttpMethod;
  workflowSid?: string;
  /** The TaskRouter `<Task>` attributes JSON, if present. */
  task?: string;
}

export type DialRecord =
  | 'do-not-record'
  | 'record-from-answer'
  | 'record-from-ringing'
  | 'record-from-answer-dual'
  | 'record-from-ringing-dual';

export type DialTarget =
  | { type: 'number'; number: string; url?: string; method: HttpMethod; sendDigits?: string; attributes: Attributes }
  | { type: 'client'; identity: string; url?: string; method: HttpMethod; parameters: Record<string, string>; attributes: Attributes }
  | { type: 'queue'; name: string; url?: string; method: HttpMethod; reservationSid?: string; attributes: Attributes }
  | {
      type: 'conference';
      name: string;
      startConferenceOnEnter: boolean;
      endConferenceOnExit: boolean;
      waitUrl?: string;
      record?: string;
      statusCallback?: string;
      attributes: Attributes;
    }
  | { type: 'sip'; uri: string; attributes: Attributes }
  | { type: 'unknown'; name: string; text: string; attributes: Attributes };

export interface DialVerb extends VerbBase {
  verb: 'dial';
  targets: DialTarget[];
  action?: string;
  method: HttpMethod;
  /** Seconds to ring before giving up. */
  timeout: number;
  record: DialRecord;
  recordingStatusCallback?: string;
  recordingStatusCallbackMethod: HttpMethod;
  recordingStatusCallbackEvent: string[];
  callerId?: string;
  /** Maximum call length in seconds. */
  timeLimit: number;
  hangupOnStar: boolean;
  answerOnBridge: boolean;
}

export interface RecordVerb extends VerbBase {
  verb: 'record';
  /** Unset means the current document URL (Twilio's default). */
  action?: string;
  method: HttpMethod;
  /** Seconds of silence that end the recording; 0 disables. */
  timeout: number;
  /** Any of these keys ends the recording; '' for none. */
  finishOnKey: string;
  maxLength: number;
  playBeep: boolean;
  trim: 'trim-silence' | 'do-not-trim';
  recordingStatusCallback?: string;
  recordingStatusCallbackMethod: HttpMethod;
  recordingStatusCallbackEvent: string[];
  transcribe: boolean;
  transcribeCallback?: string;
}

export interface HangupVerb extends VerbBase {
  verb: 'hangup';
}

export interface RejectVerb extends VerbBase {
  verb: 'reject';
  reason: 'rejected' | 'busy';
}

/** Only meaningful in an Enqueue waitUrl document: takes the caller out of the queue. */
export interface LeaveVerb extends VerbBase {
  verb: 'leave';
}

export type StreamingNoun =
  | {
      type: 'recording';
      name?: string;
      channels: 'mono' | 'dual';
      track: 'inbound' | 'outbound' | 'both';
      trim: 'trim-silence' | 'do-not-trim';
      recordingStatusCallback?: string;
      recordingStatusCallbackMethod: HttpMethod;
      recordingStatusCallbackEvent: string[];
      attributes: Attributes;
    }
  | { type: 'stream'; name?: string; url?: string; track: string; attributes: Attributes }
  /** Siprec, Transcription, ConversationRelay…: kept by name. */
  | { type: 'other'; name: string; attributes: Attributes };

export interface StartVerb extends VerbBase {
  verb: 'start';
  nouns: StreamingNoun[];
}

export interface StopVerb extends VerbBase {
  verb: 'stop';
  nouns: StreamingNoun[];
}

export interface UnknownVerb extends VerbBase {
  verb: 'unknown';
  /** Element name as written; '#text' for stray text directly inside `<Response>`. */
  name: string;
  text: string;
}

export type TwimlVerb =
  | SayVerb
  | PlayVerb
  | PauseVerb
  | GatherVerb
  | RedirectVerb
  | EnqueueVerb
  | DialVerb
  | RecordVerb
  | HangupVerb
  | RejectVerb
  | LeaveVerb
  | StartVerb
  | StopVerb
  | UnknownVerb;

// --- fast-xml-parser's preserveOrder shape -------------------------------------------------------
// Each node is `{ [tagName]: XmlNode[], ':@'?: attributes }` or `{ '#text': string }`.
type XmlNode = Record<string, unknown>;
interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
}

const parser = new XMLParser({
  preserveOrder: true, // verb order is the program; the default object mode would group by tag
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // Keep every value a string: "007" must stay a digit string and `loop="1"` is validated below.
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  // Decodes numeric character references (`&#39;`, which TwiML builders emit) without double-decoding `&amp;#39;`.
  htmlEntities: true,
});

/**
 * Parses a TwiML voice document into its verbs, in document order.
 *
 * @throws ValidationError `twiml.malformed` (not well-formed XML), `twiml.bad_root` (root is not
 *   `<Response>`), or `twiml.invalid` (an attribute value Twilio would reject; `fields` names each).
 */
export function parseTwiml(xml: string): TwimlVerb[] {
  const source = xml.replace(/^\uFEFF/, '');
  if (source.trim() === '') {
    throw new ValidationError('The TwiML document is empty.', [], 'twiml.malformed');
  }
  const valid = XMLValidator.validate(source);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new ValidationError(`The TwiML document is not well-formed XML: ${msg} (line ${line}, column ${col ?? '?'}).`, [], 'twiml.malformed');
  }
  const roots = (parser.parse(source) as XmlNode[]).map(toElement).filter((el): el is XmlElement => el !== null && !el.name.startsWith('?'));
  if (roots.length !== 1 || roots[0]?.name !== 'Response') {
    const found = roots.map((el) => `<${el.name}>`).join(', ') || 'no element';
    throw new ValidationError(`A TwiML document has exactly one <Response> root; found ${found}.`, [], 'twiml.bad_root');
  }
  const issues: FieldIssue[] = [];
  const verbs = readVerbs(roots[0].children, 'Response', issues, readTopLevelVerb);
  if (issues.length > 0) {
    throw new ValidationError(`The TwiML document has invalid attribute values: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues, 'twiml.invalid');
  }
  return verbs;
}

function toElement(node: XmlNode): XmlElement | null {
  const name = Object.keys(node).find((key) => key !== ':@' && key !== '#text');
  if (name === undefined) return null;
  const children = node[name];
  const attributes = (node[':@'] ?? {}) as Record<string, string>;
  return { name, attributes: { ...attributes }, children: Array.isArray(children) ? (children as XmlNode[]) : [] };
}

function textOf(node: XmlNode): string | null {
  return typeof node['#text'] === 'string' ? node['#text'] : null;
}

/** Text of an element and all its descendants (SSML inside Say), whitespace-collapsed. */
function deepText(children: XmlNode[]): string {
  const parts: string[] = [];
  const walk = (nodes: XmlNode[]) => {
    for (const node of nodes) {
      const text = textOf(node);
      if (text !== null) parts.push(text);
      else {
        const el = toElement(node);
        if (el) {
          parts.push(' ');
          walk(el.children);
          parts.push(' ');
        }
      }
    }
  };
  walk(children);
  return collapse(parts.join(''));
}

/** Only the element's own text (e.g. a Redirect URL or queue name), ignoring child elements. */
function ownText(children: XmlNode[]): string {
  return collapse(children.map((n) => textOf(n) ?? '').join(''));
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

type VerbReader<T> = (el: XmlElement, path: string, issues: FieldIssue[]) => T;

function readVerbs<T>(children: XmlNode[], parentPath: string, issues: FieldIssue[], read: VerbReader<T | UnknownVerb>): Array<T | UnknownVerb> {
  const verbs: Array<T | UnknownVerb> = [];
  children.forEach((node) => {
    const text = textOf(node);
    if (text !== null) {
      if (text.trim() !== '') verbs.push({ verb: 'unknown', name: '#text', text: collapse(text), attributes: {} });
      return;
    }
    const el = toElement(node);
    if (el) verbs.push(read(el, `${parentPath}.${verbs.length}:${el.name}`, issues));
  });
  return verbs;
}

function unknown(el: XmlElement): UnknownVerb {
  return { verb: 'unknown', name: el.name, text: deepText(el.children), attributes: el.attributes };
}

function readTopLevelVerb(el: XmlElement, path: string, issues: FieldIssue[]): TwimlVerb {
  const a = new AttributeReader(el.attributes, path, issues);
  const attributes = el.attributes;
  switch (el.name) {
    case 'Say':
    case 'Play':
    case 'Pause':
      return readPrompt(el, path, issues);
    case 'Gather': {
      const timeout = a.int('timeout', 5, 0);
      return {
        verb: 'gather',
        input: a.input('input'),
        ...a.optional('numDigits', (v) => a.integer('numDigits', v, 1)),
        finishOnKey: a.finishKey('finishOnKey', '#', false),
        timeout,
        // Twilio uses the timeout value when speechTimeout is not given.
        speechTimeout: a.speechTimeout('speechTimeout', timeout),
        ...a.url('action'),
        method: a.method('method'),
        language: a.string('language') ?? 'en-US',
        hints: (a.string('hints') ?? '').split(',').map((h) => h.trim()).filter(Boolean),
        actionOnEmptyResult: a.bool('actionOnEmptyResult', false),
        nested: readVerbs(el.children, path, issues, (child, childPath, childIssues) =>
          child.name === 'Say' || child.name === 'Play' || child.name === 'Pause' ? readPrompt(child, childPath, childIssues) : unknown(child),
        ),
        attributes,
      };
    }
    case 'Redirect': {
      const url = ownText(el.children);
      if (url === '') issues.push({ path, code: 'required', message: 'needs a URL.' });
      return { verb: 'redirect', url, method: a.method('method'), attributes };
    }
    case 'Enqueue': {
      const taskEl = el.children.map(toElement).find((child) => child?.name === 'Task');
      const queue = ownText(el.children);
      if (queue.length > 64) issues.push({ path, code: 'too_big', message: 'queue names are at most 64 characters.' });
      return {
        verb: 'enqueue',
        queue,
        ...a.url('action'),
        method: a.method('method'),
        ...a.url('waitUrl'),
        waitUrlMethod: a.method('waitUrlMethod'),
        ...a.optional('workflowSid', (v) => v),
        ...(taskEl ? { task: deepText(taskEl.children) } : {}),
        attributes,
      };
    }
    case 'Dial':
      return readDial(el, path, issues, a);
    case 'Record':
      return {
        verb: 'record',
        ...a.url('action'),
        method: a.method('method'),
        timeout: a.int('timeout', 5, 0),
        finishOnKey: a.finishKey('finishOnKey', '1234567890*#', true),
        maxLength: a.int('maxLength', 3600, 1),
        playBeep: a.bool('playBeep', true),
        trim: a.oneOf('trim', ['trim-silence', 'do-not-trim'] as const, 'trim-silence'),
        ...a.url('recordingStatusCallback'),
        recordingStatusCallbackMethod: a.method('recordingStatusCallbackMethod'),
        recordingStatusCallbackEvent: a.list('recordingStatusCallbackEvent', ['completed']),
        transcribe: a.bool('transcribe', false),
        ...a.url('transcribeCallback'),
        attributes,
      };
    case 'Hangup':
      return { verb: 'hangup', attributes };
    case 'Reject':
      return { verb: 'reject', reason: a.oneOf('reason', ['rejected', 'busy'] as const, 'rejected'), attributes };
    case 'Leave':
      return { verb: 'leave', attributes };
    case 'Start':
    case 'Stop': {
      const nouns = el.children
        .map(toElement)
        .filter((child): child is XmlElement => child !== null)
        .map((child, i) => readStreamingNoun(child, `${path}.${i}:${child.name}`, issues));
      return el.name === 'Start' ? { verb: 'start', nouns, attributes } : { verb: 'stop', nouns, attributes };
    }
    default:
      return unknown(el);
  }
}

function readPrompt(el: XmlElement, path: string, issues: FieldIssue[]): SayVerb | PlayVerb | PauseVerb {
  const a = new AttributeReader(el.attributes, path, issues);
  const attributes = el.attributes;
  if (el.name === 'Say') {
    return {
      verb: 'say',
      text: deepText(el.children),
      ...a.optional('voice', (v) => v),
      ...a.optional('language', (v) => v),
      loop: a.int('loop', 1, 0),
      attributes,
    };
  }
  if (el.name === 'Play') {
    const url = ownText(el.children);
    const digits = a.string('digits');
    if (digits !== undefined && !/^[0-9*#wW]+$/.test(digits)) {
      issues.push({ path: `${path}.digits`, code: 'invalid_string', message: 'may contain only 0-9, *, # and w.' });
    }
    if (url === '' && digits === undefined) issues.push({ path, code: 'required', message: 'needs an audio URL or digits.' });
    return { verb: 'play', url, loop: a.int('loop', 1, 0), ...(digits !== undefined ? { digits } : {}), attributes };
  }
  return { verb: 'pause', length: a.int('length', 1, 0), attributes };
}

function readDial(el: XmlElement, path: string, issues: FieldIssue[], a: AttributeReader): DialVerb {
  const targets: DialTarget[] = [];
  const bare = ownText(el.children);
  // `<Dial>+15551234567</Dial>` is shorthand for a single <Number>.
  if (bare !== '') targets.push({ type: 'number', number: bare, method: 'POST', attributes: {} });
  el.children.forEach((node) => {
    const child = toElement(node);
    if (!child) return;
    const n = new AttributeReader(child.attributes, `${path}.${targets.length}:${child.name}`, issues);
    const attributes = child.attributes;
    const text = ownText(child.children);
    switch (child.name) {
      case 'Number':
        targets.push({ type: 'number', number: text, ...n.url('url'), method: n.method('method'), ...n.optional('sendDigits', (v) => v), attributes });
        break;
      case 'Client': {
        // Modern form nests <Identity> and <Parameter name value>; the legacy form is bare text.
        const grand = child.children.map(toElement).filter((g): g is XmlElement => g !== null);
        const identityEl = grand.find((g) => g.name === 'Identity');
        const parameters: Record<string, string> = {};
        for (const g of grand) if (g.name === 'Parameter' && g.attributes.name !== undefined) parameters[g.attributes.name] = g.attributes.value ?? '';
        targets.push({
          type: 'client',
          identity: identityEl ? ownText(identityEl.children) : text,
          ...n.url('url'),
          method: n.method('method'),
          parameters,
          attributes,
        });
        break;
      }
      case 'Queue':
        targets.push({ type: 'queue', name: text, ...n.url('url'), method: n.method('method'), ...n.optional('reservationSid', (v) => v), attributes });
        break;
      case 'Conference':
        targets.push({
          type: 'conference',
          name: text,
          startConferenceOnEnter: n.bool('startConferenceOnEnter', true),
          endConferenceOnExit: n.bool('endConferenceOnExit', false),
          ...n.url('waitUrl'),
          ...n.optional('record', (v) => v),
          ...n.url('statusCallback'),
          attributes,
        });
        break;
      case 'Sip':
        targets.push({ type: 'sip', uri: text, attributes });
        break;
      default:
        targets.push({ type: 'unknown', name: child.name, text: deepText(child.children), attributes });
    }
  });
  const record = a.string('record');
  let normalizedRecord: DialRecord = 'do-not-record';
  // Twilio still accepts the legacy boolean form: true means record-from-answer.
  if (record === 'true') normalizedRecord = 'record-from-answer';
  else if (record !== undefined && record !== 'false') {
    normalizedRecord = a.oneOf(
      'record',
      ['do-not-record', 'record-from-answer', 'record-from-ringing', 'record-from-answer-dual', 'record-from-ringing-dual'] as const,
      'do-not-record',
    );
  }
  return {
    verb: 'dial',
    targets,
    ...a.url('action'),
    method: a.method('method'),
    timeout: a.int('timeout', 30, 0),
    record: normalizedRecord,
    ...a.url('recordingStatusCallback'),
    recordingStatusCallbackMethod: a.method('recordingStatusCallbackMethod'),
    recordingStatusCallbackEvent: a.list('recordingStatusCallbackEvent', ['completed']),
    ...a.optional('callerId', (v) => v),
    timeLimit: a.int('timeLimit', 14400, 1),
    hangupOnStar: a.bool('hangupOnStar', false),
    answerOnBridge: a.bool('answerOnBridge', false),
    attributes: el.attributes,
  };
}

function readStreamingNoun(el: XmlElement, path: string, issues: FieldIssue[]): StreamingNoun {
  const a = new AttributeReader(el.attributes, path, issues);
  const attributes = el.attributes;
  if (el.name === 'Recording') {
    return {
      type: 'recording',
      ...a.optional('name', (v) => v),
      channels: a.oneOf('channels', ['mono', 'dual'] as const, 'mono'),
      track: a.oneOf('track', ['inbound', 'outbound', 'both'] as const, 'both'),
      trim: a.oneOf('trim', ['trim-silence', 'do-not-trim'] as const, 'do-not-trim'),
      ...a.url('recordingStatusCallback'),
      recordingStatusCallbackMethod: a.method('recordingStatusCallbackMethod'),
      recordingStatusCallbackEvent: a.list('recordingStatusCallbackEvent', ['completed']),
      attributes,
    };
  }
  if (el.name === 'Stream') {
    return { type: 'stream', ...a.optional('name', (v) => v), ...a.optional('url', (v) => v), track: a.string('track') ?? 'inbound_track', attributes };
  }
  return { type: 'other', name: el.name, attributes };
}

/** Reads typed attribute values, recording (not throwing) each bad one so one error lists them all. */
class AttributeReader {
  private readonly attrs: Record<string, string>;
  private readonly path: string;
  private readonly issues: FieldIssue[];

  constructor(attrs: Record<string, string>, path: string, issues: FieldIssue[]) {
    this.attrs = attrs;
    this.path = path;
    this.issues = issues;
  }

  private bad(name: string, message: string): void {
    this.issues.push({ path: `${this.path}.${name}`, code: 'invalid_value', message: `${message} (got "${this.attrs[name] ?? ''}")` });
  }

  string(name: string): string | undefined {
    return this.attrs[name];
  }

  /** Yields `{ [name]: value }` only when present, so an unset attribute stays an absent key (deep-equal friendly). */
  optional<K extends string, V>(name: K, read: (value: string) => V | undefined): { [P in K]?: V } {
    const raw = this.attrs[name];
    if (raw === undefined) return {};
    const value = read(raw);
    return value === undefined ? {} : ({ [name]: value } as { [P in K]?: V });
  }

  /** URL-valued attribute; an empty value means "not set", which is how Twilio treats `action=""`. */
  url<K extends string>(name: K): { [P in K]?: string } {
    return this.optional(name, (v) => (v.trim() === '' ? undefined : v.trim()));
  }

  integer(name: string, raw: string, min: number): number | undefined {
    if (!/^\s*\d+\s*$/.test(raw) || Number(raw) < min) {
      this.bad(name, `must be an integer of at least ${min}`);
      return undefined;
    }
    return Number(raw);
  }

  int(name: string, fallback: number, min: number): number {
    const raw = this.attrs[name];
    return raw === undefined ? fallback : (this.integer(name, raw, min) ?? fallback);
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.attrs[name];
    if (raw === undefined) return fallback;
    const lower = raw.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    this.bad(name, 'must be true or false');
    return fallback;
  }

  method(name: string): HttpMethod {
    const raw = this.attrs[name];
    if (raw === undefined || raw.trim() === '') return 'POST';
    const upper = raw.trim().toUpperCase();
    if (upper === 'GET' || upper === 'POST') return upper;
    this.bad(name, 'must be GET or POST');
    return 'POST';
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.attrs[name];
    if (raw === undefined) return fallback;
    const found = allowed.find((value) => value === raw.trim());
    if (found === undefined) this.bad(name, `must be one of ${allowed.join(', ')}`);
    return found ?? fallback;
  }

  list(name: string, fallback: string[]): string[] {
    const raw = this.attrs[name];
    return raw === undefined ? fallback : raw.split(/[\s,]+/).filter(Boolean);
  }

  /** Gather takes one key (or ''); Record takes any set of keys. */
  finishKey(name: string, fallback: string, many: boolean): string {
    const raw = this.attrs[name];
    if (raw === undefined) return fallback;
    if (!/^[0-9*#]*$/.test(raw) || (!many && raw.length > 1)) {
      this.bad(name, many ? 'may contain only 0-9, * and #' : 'must be one of 0-9, *, # or empty');
      return fallback;
    }
    return raw;
  }

  input(name: string): GatherInput[] {
    const raw = this.attrs[name];
    if (raw === undefined) return ['dtmf'];
    const tokens = raw.split(/\s+/).filter(Boolean);
    const inputs = tokens.filter((t): t is GatherInput => t === 'dtmf' || t === 'speech');
    if (inputs.length === 0 || inputs.length !== tokens.length) {
      this.bad(name, 'must be dtmf, speech, or "dtmf speech"');
      return ['dtmf'];
    }
    return [...new Set(inputs)];
  }

  speechTimeout(name: string, fallback: number): number | 'auto' {
    const raw = this.attrs[name];
    if (raw === undefined) return fallback;
    if (raw.trim() === 'auto') return 'auto';
    return this.integer(name, raw, 0) ?? fallback;
  }
}
