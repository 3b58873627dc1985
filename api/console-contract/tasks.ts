import { z } from 'zod';

/**
 * Tasks: everything that waits for a person (a chat, a waiting call, a callback request, a left
 * message, an order held for fraud review) is one object, so routing, the agent's desk, the
 * supervisor's floor and the reports read the same thing (Twilio TaskRouter's model).
 * Browser-safe: zod only.
 */

export const TASK_CHANNELS = ['chat', 'call', 'callback', 'message', 'fraud_review'] as const;
export const TaskChannel = z.enum(TASK_CHANNELS);
export type TaskChannel = z.infer<typeof TaskChannel>;

export const TASK_STATES = ['pending', 'offered', 'assigned', 'wrapping_up', 'completed', 'cancelled', 'abandoned'] as const;
export const TaskState = z.enum(TASK_STATES);
export type TaskState = z.infer<typeof TaskState>;
/** States after which nothing happens to a task any more. */
export const FINAL_TASK_STATES = ['completed', 'cancelled', 'abandoned'] as const satisfies readonly TaskState[];
export const isFinalTaskState = (state: TaskState): boolean => (FINAL_TASK_STATES as readonly TaskState[]).includes(state);

/** ISO 639-1 code: the IVR already knows a caller's language, the pre-chat form asks the visitor's. */
export const Language = z.string().regex(/^[a-z]{2}$/, 'expected a two-letter language code such as en');
export type Language = z.infer<typeof Language>;
/** A routing skill beyond language (e.g. `vip`, `subscriptions`). */
export const Skill = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'lowercase letters, digits, _ and -');
export type Skill = z.infer<typeof Skill>;

/** 0 (lowest) to 9 (most urgent). Routing serves the highest priority first, then the oldest. */
export const TaskPriority = z.number().int().min(0).max(9);

export const IsoDateTime = z.iso.datetime({ offset: true });
export const Uuid = z.uuid();
/** Staff user ids are Mongo ObjectIds (24 hex digits). */
export const StaffUserId = z.string().regex(/^[0-9a-f]{24}$/);

export const CHAT_TOPICS = ['order', 'product', 'subscription', 'account', 'other'] as const;
export const ChatTopic = z.enum(CHAT_TOPICS);
export type ChatTopic = z.infer<typeof ChatTopic>;

/** What the desk shows of a task before it is opened; one shape per channel. */
export const TaskSummary = z.discriminatedUnion('channel', [
  z.object({ channel: z.literal('chat'), sessionId: Uuid, visitorFirstName: z.string().max(80), topic: ChatTopic }),
  z.object({
    channel: z.literal('call'),
    callSid: z.string().max(64),
    callerId: z.string().max(32),
    customerId: z.string().nullable(),
    queue: z.string().max(64),
    tty: z.boolean(),
    recordingDeclined: z.boolean(),
  }),
  z.object({ channel: z.literal('callback'), callbackId: z.string().max(64), callSid: z.string().max(64), bestTime: z.string().max(120) }),
  z.object({ channel: z.literal('message'), messageId: Uuid, visitorFirstName: z.string().max(80), topic: ChatTopic, preview: z.string().max(140) }),
  z.object({ channel: z.literal('fraud_review'), orderId: z.string().max(64), orderNumber: z.string().max(20), score: z.number() }),
]);
export type TaskSummary = z.infer<typeof TaskSummary>;

export const DISPOSITION_CODES = [
  'resolved',
  'follow_up',
  'order_status_given',
  'escalated',
  'transferred',
  'no_response',
  'callback_completed',
  'callback_unreachable',
  'fraud_approved',
  'fraud_declined',
  'other',
] as const;
export const DispositionCode = z.enum(DISPOSITION_CODES);
export type DispositionCode = z.infer<typeof DispositionCode>;

/** Free text a person typed: trimmed, bounded, no control characters. Card numbers are masked by the server. */
export const FreeText = (max: number) =>
  z
    .string()
    .max(max)
    // eslint-disable-next-line no-control-regex
    .transform((value) => value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').trim());

export const WrapUp = z.strictObject({
  disposition: DispositionCode,
  notes: FreeText(2000).default(''),
});
export type WrapUp = z.infer<typeof WrapUp>;

export const TaskAssignee = z.object({ staffUserId: StaffUserId, displayName: z.string() });

export const Task = z.object({
  id: Uuid,
  channel: TaskChannel,
  priority: TaskPriority,
  language: Language,
  requiredSkills: z.array(Skill).max(10),
  createdAt: IsoDateTime,
  state: TaskState,
  /** When the task entered its current state. */
  stateSince: IsoDateTime,
  /** The open offer (state `offered`). */
  offer: z.object({ staffUserId: StaffUserId, expiresAt: IsoDateTime }).nullable(),
  assignee: TaskAssignee.nullable(),
  assignedAt: IsoDateTime.nullable(),
  wrapUp: WrapUp.extend({ at: IsoDateTime, seconds: z.number().int().min(0) }).nullable(),
  summary: TaskSummary,
});
export type Task = z.infer<typeof Task>;

/** Where a waiting task stands, shown to chat visitors and usable by the IVR. */
export const QueueEstimate = z.object({
  /** 1 = next in line. */
  position: z.number().int().min(1),
  expectedWaitSeconds: z.number().int().min(0),
});
export type QueueEstimate = z.infer<typeof QueueEstimate>;
