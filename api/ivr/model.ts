import { Schema, type Connection, type Model } from 'mongoose';
import { CALL_OUTCOMES, CALLBACK_RESULTS, CALLBACK_STATUSES, type CallOutcome, type IvrLanguage } from './schema.ts';

/** One saved IVR configuration. Versions are never edited; the highest is the one in use. */
export interface IvrConfigVersionDoc {
  /** The version number (1, 2, ...): the unique _id makes two concurrent saves of one version impossible. */
  _id: number;
  config: Record<string, unknown>;
  createdAt: Date;
  createdBy: string;
  note: string | null;
}

/** One step of a caller's path through the menus. Never the digits or words that identify an order. */
export interface PathStep {
  at: Date;
  node: string;
  input?: 'dtmf' | 'speech' | 'none';
  /** What the step decided: a menu action, `invalid`, `verified`, a language... */
  result?: string;
  /** Keyed hash of an entered order number, so repeated tries can be told apart without the digits. */
  ref?: string;
}

export interface CallRecordDoc {
  /** Twilio CallSid. */
  _id: string;
  callerId: string;
  to: string;
  language: IvrLanguage | null;
  tty: boolean;
  recordingDeclined: boolean;
  customerId: string | null;
  customerName: string | null;
  /** Active customers sharing the caller's number: the screen pop names one only when exactly one matches. */
  customerMatches: number;
  startedAt: Date;
  /** Store-local date (YYYY-MM-DD) and hour the call started: what the reports group by. */
  day: string;
  hour: number;
  path: PathStep[];
  /** Facts the caller proved to the IVR (a verified order number), shown to the rep. */
  entered: Record<string, string>;
  outcome: CallOutcome;
  abandonedIn: 'menu' | 'queue' | null;
  queue: {
    name: string;
    sid: string | null;
    enqueuedAt: Date;
    leftAt: Date | null;
    /** Seconds in the queue, summed over every time the caller waited (a rep who did not answer sends them back). */
    waitSeconds: number;
    result: string | null;
    acceptedBy: string | null;
    acceptedAt: Date | null;
    target: { type: 'client' | 'number' | 'simulator'; value: string } | null;
  } | null;
  connected: { staffUserId: string; at: Date; durationSeconds: number | null } | null;
  callbackId: string | null;
  endedAt: Date | null;
  durationSeconds: number | null;
  finalStatus: string | null;
  /**
   * Report figures, set when the call ends: 0/1 flags and seconds, so reports are `$group` with
   * `$sum` only. Top-level fields on purpose: FerretDB 1.24 sums a dotted path (`$m.ended`) as 0.
   */
  mEnded: number;
  mSelfServed: number;
  mQueued: number;
  mAbandonedInQueue: number;
  mConnected: number;
  mCallback: number;
  mWaited: number;
  mWaitSeconds: number;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface CallbackDoc {
  _id: string;
  /** One callback per call: a retried webhook cannot create a second task. */
  callSid: string;
  phone: string;
  phoneSource: 'caller_id' | 'entered';
  /** `morning` / `afternoon` / `evening`, or what the caller said (trimmed, at most 120 characters). */
  bestTime: string;
  language: IvrLanguage;
  customerId: string | null;
  status: (typeof CALLBACK_STATUSES)[number];
  requestedAt: Date;
  claimedBy: string | null;
  claimedAt: Date | null;
  completedBy: string | null;
  completedAt: Date | null;
  result: (typeof CALLBACK_RESULTS)[number] | null;
  note: string | null;
}

/**
 * `recordings_pending`: one entry per recording of a rep leg, written when Twilio's (signature-checked)
 * recording status callback reports it. The recordings module ingests them: it fetches `recordingUrl`
 * with the account credentials, stores the audio in S3, deletes it at Twilio, then sets `ingestState`.
 *
 * - `_id`: the RecordingSid (`RE…`); unique, so Twilio's retried callback changes nothing.
 * - `recordingDeclined`: true only if a recording arrived for a call whose caller declined (it should
 *   not happen: the rep leg is then dialled without `record`); such an entry is to be deleted at
 *   Twilio and never stored (`ingestState: 'discard'`).
 */
export interface PendingRecordingDoc {
  _id: string;
  callSid: string;
  recordingUrl: string;
  durationSeconds: number;
  channels: number;
  source: string;
  status: string;
  startedAt: Date | null;
  receivedAt: Date;
  staffUserId: string | null;
  customerId: string | null;
  language: IvrLanguage | null;
  recordingDeclined: boolean;
  ingestState: 'pending' | 'discard' | 'ingested' | 'discarded';
  ingestedAt: Date | null;
}

const configVersionSchema = new Schema<IvrConfigVersionDoc>(
  {
    _id: { type: Number, required: true },
    config: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
    createdBy: { type: String, required: true },
    note: { type: String, default: null },
  },
  { collection: 'ivr_configs', versionKey: false, minimize: false },
);

const pathStepSchema = new Schema<PathStep>(
  { at: { type: Date, required: true }, node: { type: String, required: true }, input: String, result: String, ref: String },
  { _id: false },
);

const callRecordSchema = new Schema<CallRecordDoc>(
  {
    _id: { type: String, required: true },
    callerId: { type: String, required: true },
    to: { type: String, required: true },
    language: { type: String, default: null },
    tty: { type: Boolean, default: false },
    recordingDeclined: { type: Boolean, default: false },
    customerId: { type: String, default: null },
    customerName: { type: String, default: null },
    customerMatches: { type: Number, default: 0 },
    startedAt: { type: Date, required: true },
    day: { type: String, required: true, index: true },
    hour: { type: Number, required: true },
    path: { type: [pathStepSchema], default: [] },
    entered: { type: Schema.Types.Mixed, default: {} },
    outcome: { type: String, enum: CALL_OUTCOMES, required: true, index: true },
    abandonedIn: { type: String, default: null },
    queue: { type: Schema.Types.Mixed, default: null },
    connected: { type: Schema.Types.Mixed, default: null },
    callbackId: { type: String, default: null },
    endedAt: { type: Date, default: null },
    durationSeconds: { type: Number, default: null },
    finalStatus: { type: String, default: null },
    mEnded: { type: Number, default: 0 },
    mSelfServed: { type: Number, default: 0 },
    mQueued: { type: Number, default: 0 },
    mAbandonedInQueue: { type: Number, default: 0 },
    mConnected: { type: Number, default: 0 },
    mCallback: { type: Number, default: 0 },
    mWaited: { type: Number, default: 0 },
    mWaitSeconds: { type: Number, default: 0 },
  },
  { collection: 'ivr_calls', versionKey: false, minimize: false, timestamps: true },
);

const callbackSchema = new Schema<CallbackDoc>(
  {
    _id: { type: String, required: true },
    callSid: { type: String, required: true, unique: true },
    phone: { type: String, required: true },
    phoneSource: { type: String, enum: ['caller_id', 'entered'], required: true },
    bestTime: { type: String, required: true },
    language: { type: String, required: true },
    customerId: { type: String, default: null },
    status: { type: String, enum: CALLBACK_STATUSES, required: true, index: true },
    requestedAt: { type: Date, required: true },
    claimedBy: { type: String, default: null },
    claimedAt: { type: Date, default: null },
    completedBy: { type: String, default: null },
    completedAt: { type: Date, default: null },
    result: { type: String, enum: [...CALLBACK_RESULTS, null], default: null },
    note: { type: String, default: null },
  },
  { collection: 'ivr_callbacks', versionKey: false },
);

const pendingRecordingSchema = new Schema<PendingRecordingDoc>(
  {
    _id: { type: String, required: true },
    callSid: { type: String, required: true, index: true },
    recordingUrl: { type: String, required: true },
    durationSeconds: { type: Number, required: true },
    channels: { type: Number, required: true },
    source: { type: String, required: true },
    status: { type: String, required: true },
    startedAt: { type: Date, default: null },
    receivedAt: { type: Date, required: true },
    staffUserId: { type: String, default: null },
    customerId: { type: String, default: null },
    language: { type: String, default: null },
    recordingDeclined: { type: Boolean, required: true },
    ingestState: { type: String, enum: ['pending', 'discard', 'ingested', 'discarded'], required: true, index: true },
    ingestedAt: { type: Date, default: null },
  },
  { collection: 'recordings_pending', versionKey: false },
);

function modelOn<T>(conn: Connection, name: string, schema: Schema<T>): Model<T> {
  return (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema);
}

export const ivrConfigModel = (conn: Connection) => modelOn(conn, 'IvrConfigVersion', configVersionSchema);
export const callRecordModel = (conn: Connection) => modelOn(conn, 'IvrCall', callRecordSchema);
export const callbackModel = (conn: Connection) => modelOn(conn, 'IvrCallback', callbackSchema);
export const pendingRecordingModel = (conn: Connection) => modelOn(conn, 'PendingRecording', pendingRecordingSchema);
