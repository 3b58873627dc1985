import { z } from 'zod';
import { ChatTopic, FreeText, IsoDateTime, Language, QueueEstimate, StaffUserId, Uuid } from './tasks.ts';

export { CHAT_TOPICS, ChatTopic } from './tasks.ts';

/**
 * Live chat: the pre-chat form, sessions, messages, receipts, canned responses and the survey.
 * Browser-safe. Card numbers are masked by the server before a message is stored, broadcast or
 * logged; the composers also refuse to send one (`looksLikeCardNumber`).
 */

export const PreChatForm = z.strictObject({
  name: FreeText(80).pipe(z.string().min(1, 'Tell us your name.')),
  email: z.string().trim().toLowerCase().email().max(254),
  topic: ChatTopic,
  language: Language.default('en'),
});
export type PreChatForm = z.input<typeof PreChatForm>;

export const LEAVE_MESSAGE_REASONS = ['closed', 'nobody_available'] as const;

/** Answer of `POST /api/chat/sessions`: a chat, or the invitation to leave a message. */
export const ChatStartResponse = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('chat'),
    sessionId: Uuid,
    /** Signed chat-session token: the `auth.token` of the `/chat` socket. */
    token: z.string(),
    queue: QueueEstimate,
  }),
  z.object({
    mode: z.literal('leave_message'),
    reason: z.enum(LEAVE_MESSAGE_REASONS),
    /** Next opening (store-local date and time), when closed. */
    nextOpening: z.object({ date: z.string(), open: z.string(), timeZone: z.string() }).nullable(),
  }),
]);
export type ChatStartResponse = z.infer<typeof ChatStartResponse>;

export const ChatAvailability = z.object({
  open: z.boolean(),
  agentsAvailable: z.boolean(),
  nextOpening: z.object({ date: z.string(), open: z.string(), timeZone: z.string() }).nullable(),
});

/** `POST /api/chat/messages`: a message left outside hours or when nobody can take a chat. Becomes a task. */
export const LeaveMessageRequest = z.strictObject({
  name: FreeText(80).pipe(z.string().min(1, 'Tell us your name.')),
  email: z.string().trim().toLowerCase().email().max(254),
  topic: ChatTopic,
  language: Language.default('en'),
  body: FreeText(4000).pipe(z.string().min(1, 'Write your message.')),
});
export type LeaveMessageRequest = z.input<typeof LeaveMessageRequest>;

export const LeftMessageReceipt = z.object({ messageId: Uuid, receivedAt: IsoDateTime });

export const ChatAuthorKind = z.enum(['visitor', 'agent', 'supervisor', 'system']);
export type ChatAuthorKind = z.infer<typeof ChatAuthorKind>;
/**
 * `all`: everyone in the chat. `internal`: an internal note, staff only. `whisper`: from a
 * supervisor, seen by the assigned agent (and supervisors), never by the visitor.
 */
export const ChatVisibility = z.enum(['all', 'internal', 'whisper']);
export type ChatVisibility = z.infer<typeof ChatVisibility>;

/** Client-generated message id: a retried send after a reconnect is stored once (unique index). */
export const ClientMessageId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'expected 8-64 letters, digits, _ or -');

export const ChatLink = z.object({ label: z.string().max(120), url: z.string().url().max(500) });

export const ChatMessage = z.object({
  /** Server id. */
  id: z.string(),
  /** Per-session sequence number, increasing; replay asks for everything after the last seq seen. */
  seq: z.number().int().min(1),
  sessionId: Uuid,
  clientId: ClientMessageId.nullable(),
  author: z.object({
    kind: ChatAuthorKind,
    /** The visitor's name for staff; for the visitor, staff appear by first name only. */
    name: z.string().max(80),
    /** Only in staff views. */
    staffUserId: StaffUserId.optional(),
  }),
  /** Masked text (card numbers already replaced). */
  body: z.string().max(4000),
  visibility: ChatVisibility,
  /** For a whisper: the agent it is for. */
  whisperTo: StaffUserId.optional(),
  link: ChatLink.optional(),
  createdAt: IsoDateTime,
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** High-water marks: the highest seq each side has received (delivered) and seen (read) of the other side's messages. */
export const ChatReceipts = z.object({
  visitor: z.object({ deliveredSeq: z.number().int().min(0), readSeq: z.number().int().min(0) }),
  agent: z.object({ deliveredSeq: z.number().int().min(0), readSeq: z.number().int().min(0) }),
});
export type ChatReceipts = z.infer<typeof ChatReceipts>;

export const ChatSessionState = z.enum(['waiting', 'active', 'ended']);
export type ChatSessionState = z.infer<typeof ChatSessionState>;

/** What the visitor's widget knows of its session. */
export const VisitorSessionView = z.object({
  sessionId: Uuid,
  state: ChatSessionState,
  agentFirstName: z.string().nullable(),
  queue: QueueEstimate.nullable(),
  lastSeq: z.number().int().min(0),
  receipts: ChatReceipts,
  endedBy: z.enum(['visitor', 'agent', 'system']).nullable(),
  surveyAnswered: z.boolean(),
});
export type VisitorSessionView = z.infer<typeof VisitorSessionView>;

/** What staff see of a session (agent's tab, supervisor's monitor). */
export const StaffSessionView = z.object({
  sessionId: Uuid,
  taskId: Uuid,
  state: ChatSessionState,
  visitor: z.object({ name: z.string(), email: z.string(), topic: ChatTopic, language: Language }),
  agent: z.object({ staffUserId: StaffUserId, firstName: z.string() }).nullable(),
  supervisors: z.array(z.object({ staffUserId: StaffUserId, firstName: z.string() })),
  startedAt: IsoDateTime,
  assignedAt: IsoDateTime.nullable(),
  endedAt: IsoDateTime.nullable(),
  lastSeq: z.number().int().min(0),
  receipts: ChatReceipts,
});
export type StaffSessionView = z.infer<typeof StaffSessionView>;

/** A session with the messages the asker may see, seq ascending. */
export const StaffSessionWithMessages = z.object({ session: StaffSessionView, messages: z.array(ChatMessage) });
export const VisitorSessionWithMessages = z.object({ session: VisitorSessionView, messages: z.array(ChatMessage) });

export const SendAck = z.object({ id: z.string(), seq: z.number().int().min(1), createdAt: IsoDateTime, body: z.string(), duplicate: z.boolean() });
export type SendAck = z.infer<typeof SendAck>;

export const Survey = z.strictObject({
  rating: z.number().int().min(1).max(5),
  comment: FreeText(1000).optional(),
});

/** Canned responses: `{{customer.firstName}}`, `{{agent.firstName}}`, `{{store.name}}` are filled in by the server. */
export const CANNED_PLACEHOLDERS = ['customer.firstName', 'agent.firstName', 'store.name'] as const;
export const CannedResponseInput = z.strictObject({
  title: FreeText(80).pipe(z.string().min(1)),
  /** Typed in the composer as `/shortcut`. */
  shortcut: z.string().regex(/^[a-z0-9-]{1,30}$/, 'lowercase letters, digits and -'),
  body: FreeText(2000).pipe(z.string().min(1)),
});
export type CannedResponseInput = z.input<typeof CannedResponseInput>;
export const CannedResponse = z.object({
  id: Uuid,
  title: z.string(),
  shortcut: z.string(),
  body: z.string(),
  updatedAt: IsoDateTime,
  updatedBy: z.string(),
});
export type CannedResponse = z.infer<typeof CannedResponse>;

// --- card numbers: the composers refuse to send one; the server masks whatever gets through ---

const DIGIT_RUN = /(?<!\d)\d(?:[ -]?\d){12,}(?!\d)/g;

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** True when the text holds a Luhn-valid run of 13-19 digits (spaces or dashes allowed between digits), also inside a longer run. */
export function looksLikeCardNumber(text: string): boolean {
  for (const match of text.matchAll(DIGIT_RUN)) {
    const digits = match[0].replace(/\D/g, '');
    for (let length = Math.min(19, digits.length); length >= 13; length -= 1) {
      for (let start = 0; start + length <= digits.length; start += 1) if (luhnValid(digits.slice(start, start + length))) return true;
    }
  }
  return false;
}
