import { Schema, type Connection, type Model } from 'mongoose';
import type { ChatAuthorKind, ChatSessionState, ChatTopic, ChatVisibility } from './schema.ts';

/**
 * Chat's durable records. Hot per-session counters (message seq, receipts) live in Redis; a
 * session document is written when its state changes, a message once when it is sent.
 */

export interface ChatSessionDoc {
  _id: string;
  taskId: string;
  state: ChatSessionState;
  /** What the visitor typed in the pre-chat form: used to greet, to email the transcript, and to find their orders. */
  visitor: { name: string; email: string; topic: ChatTopic; language: string };
  agent: { staffUserId: string; firstName: string } | null;
  /** Supervisors who joined openly (barge-in). Silent monitors are not recorded here. */
  supervisors: { staffUserId: string; firstName: string }[];
  startedAt: Date;
  assignedAt: Date | null;
  endedAt: Date | null;
  endedBy: 'visitor' | 'agent' | 'system' | null;
  lastMessageAt: Date | null;
  /** Receipts at the end of the chat (live ones are in Redis). */
  receipts: { visitor: { deliveredSeq: number; readSeq: number }; agent: { deliveredSeq: number; readSeq: number } } | null;
  transcriptRequestedAt: Date | null;
}

const chatSessionSchema = new Schema<ChatSessionDoc>(
  {
    _id: { type: String, required: true },
    // Set right after the session's task is created (the task names the session, so the session comes first).
    taskId: { type: String, default: '' },
    state: { type: String, required: true, index: true },
    visitor: { type: Schema.Types.Mixed, required: true },
    agent: { type: Schema.Types.Mixed, default: null },
    supervisors: { type: Schema.Types.Mixed, default: [] },
    startedAt: { type: Date, required: true },
    assignedAt: { type: Date, default: null },
    endedAt: { type: Date, default: null },
    endedBy: { type: String, default: null },
    lastMessageAt: { type: Date, default: null },
    receipts: { type: Schema.Types.Mixed, default: null },
    transcriptRequestedAt: { type: Date, default: null },
  },
  { collection: 'chat_sessions', versionKey: false },
);

export interface ChatMessageDoc {
  /** `${sessionId}:${seq padded to 8}`: one session's messages are one _id range, in order. */
  _id: string;
  sessionId: string;
  seq: number;
  /** `${sessionId}:${author}:${clientId}`: unique, so a retried send is stored once. */
  dedupeKey: string;
  clientId: string | null;
  author: { kind: ChatAuthorKind; name: string; staffUserId: string | null };
  /** Masked: card numbers never reach this field. */
  body: string;
  visibility: ChatVisibility;
  whisperTo: string | null;
  link: { label: string; url: string } | null;
  createdAt: Date;
}

const chatMessageSchema = new Schema<ChatMessageDoc>(
  {
    _id: { type: String, required: true },
    sessionId: { type: String, required: true },
    seq: { type: Number, required: true },
    dedupeKey: { type: String, required: true, unique: true },
    clientId: { type: String, default: null },
    author: { type: Schema.Types.Mixed, required: true },
    body: { type: String, required: true },
    visibility: { type: String, required: true },
    whisperTo: { type: String, default: null },
    link: { type: Schema.Types.Mixed, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: 'chat_messages', versionKey: false },
);

/** A message left outside hours or when nobody could chat: it becomes a task. */
export interface LeftMessageDoc {
  _id: string;
  name: string;
  email: string;
  topic: ChatTopic;
  language: string;
  body: string;
  receivedAt: Date;
  taskId: string | null;
}

const leftMessageSchema = new Schema<LeftMessageDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    email: { type: String, required: true },
    topic: { type: String, required: true },
    language: { type: String, required: true },
    body: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    taskId: { type: String, default: null },
  },
  { collection: 'chat_left_messages', versionKey: false },
);

/**
 * The post-chat survey (PIA: anonymous customer survey). Deliberately no session, task, visitor,
 * agent or precise time: only the rating, the masked comment and the day it was given.
 */
export interface ChatSurveyDoc {
  _id: string;
  rating: number;
  comment: string | null;
  day: string;
}

const chatSurveySchema = new Schema<ChatSurveyDoc>(
  {
    _id: { type: String, required: true },
    rating: { type: Number, required: true },
    comment: { type: String, default: null },
    day: { type: String, required: true },
  },
  { collection: 'chat_surveys', versionKey: false },
);

export interface CannedResponseDoc {
  _id: string;
  title: string;
  shortcut: string;
  body: string;
  updatedAt: Date;
  updatedBy: string;
}

const cannedResponseSchema = new Schema<CannedResponseDoc>(
  {
    _id: { type: String, required: true },
    title: { type: String, required: true },
    shortcut: { type: String, required: true, unique: true },
    body: { type: String, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, required: true },
  },
  { collection: 'chat_canned_responses', versionKey: false },
);

function modelOn<T>(conn: Connection, name: string, schema: Schema<T>): Model<T> {
  return (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema);
}

export const chatSessionModel = (conn: Connection) => modelOn(conn, 'ChatSession', chatSessionSchema);
export const chatMessageModel = (conn: Connection) => modelOn(conn, 'ChatMessage', chatMessageSchema);
export const leftMessageModel = (conn: Connection) => modelOn(conn, 'ChatLeftMessage', leftMessageSchema);
export const chatSurveyModel = (conn: Connection) => modelOn(conn, 'ChatSurvey', chatSurveySchema);
export const cannedResponseModel = (conn: Connection) => modelOn(conn, 'CannedResponse', cannedResponseSchema);
