import { z } from 'zod';
import type { Permission } from '../staff/permissions.ts';
import { AgentConfigureRequest, AgentState, Presence } from './agents.ts';
import {
  CannedResponse,
  ChatMessage,
  ChatReceipts,
  ClientMessageId,
  SendAck,
  StaffSessionView,
  StaffSessionWithMessages,
  Survey,
  VisitorSessionView,
  VisitorSessionWithMessages,
} from './chat.ts';
import { FloorAgentUpdate, FloorChatUpdate, FloorQueueUpdate, FloorSnapshot } from './floor.ts';
import { FraudDecisionRequest, FraudReviewDetail } from './fraud.ts';
import { FreeText, Language, QueueEstimate, StaffUserId, Task, TaskChannel, TaskState, Uuid, WrapUp } from './tasks.ts';

/**
 * The typed event maps of every socket namespace, in both directions. The server registers its
 * handlers from these maps (agent-console/acks.ts validates each payload and checks its
 * permission) and validates what it emits against them; the console and the widget import the
 * same maps. One map from event name to schema, never a bare string with an unchecked payload.
 */

// --- the ack envelope: the socket face of the error family (platform/errors.ts) ---

export const AckError = z.object({
  code: z.string(),
  message: z.string(),
  fields: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })).optional(),
});
export type AckError = z.infer<typeof AckError>;
export type Ack<T> = { ok: true; data: T } | { ok: false; error: AckError };

/** A client-to-server event: who may send it (null: the namespace's own check is enough), its payload and its ack data. */
export interface ClientEvent<P extends z.ZodType = z.ZodType, A extends z.ZodType = z.ZodType> {
  permission: Permission | null;
  payload: P;
  ack: A;
}
const ask = <P extends z.ZodType, A extends z.ZodType>(permission: Permission | null, payload: P, ack: A): ClientEvent<P, A> => ({ permission, payload, ack });

export type ClientEventMap = Record<string, ClientEvent>;
export type ServerEventMap = Record<string, z.ZodType>;

/** socket.io's typed-events shapes, for `Socket<ServerToClient<...>, ClientToServer<...>>`. */
export type ClientToServer<M extends ClientEventMap> = {
  [K in keyof M]: (payload: z.input<M[K]['payload']>, ack: (result: Ack<z.output<M[K]['ack']>>) => void) => void;
};
export type ServerToClient<M extends ServerEventMap> = {
  [K in keyof M]: (payload: z.output<M[K]>) => void;
};
export type AckOf<M extends ClientEventMap, K extends keyof M> = z.output<M[K]['ack']>;
export type PayloadOf<M extends ServerEventMap, K extends keyof M> = z.output<M[K]>;

const Empty = z.strictObject({});
const Nothing = z.object({});

// --- shared pieces -------------------------------------------------------------------------------

/** Every staff namespace: who am I here. */
const staffCommonClient = (permission: Permission) => ({
  whoami: ask(permission, Empty.optional(), z.object({ username: z.string(), role: z.string() })),
});
const staffCommonServer = {
  /** The session ended (idle timeout, sign-out, suspension): clear the screen at once. */
  'session-ended': z.object({ reason: z.string() }),
};

export const ChatTyping = z.object({ sessionId: Uuid, author: z.object({ kind: z.enum(['visitor', 'agent', 'supervisor']), name: z.string() }), typing: z.boolean() });
export const ChatReceiptUpdate = z.object({ sessionId: Uuid, receipts: ChatReceipts });
export const ReceiptRequest = z.strictObject({ deliveredSeq: z.number().int().min(0).optional(), readSeq: z.number().int().min(0).optional() });
export const StaffChatSend = z.strictObject({
  sessionId: Uuid,
  clientId: ClientMessageId,
  body: FreeText(4000).pipe(z.string().min(1)),
  /** `internal`: a note only staff see. */
  visibility: z.enum(['all', 'internal']).default('all'),
});
export const ResumeRequest = z.strictObject({ sessions: z.array(z.strictObject({ sessionId: Uuid, afterSeq: z.number().int().min(0) })).max(20) });
export const ResumeAck = z.object({ sessions: z.array(StaffSessionWithMessages) });

/** The desk: presence, offers, accept/decline, end, wrap-up. In /agent (CSRs, supervisors) and /fraud (analysts). */
export const DeskState = z.object({ agent: AgentState, tasks: z.array(Task) });
const deskClient = {
  'desk:state': ask('tasks:work', Empty.optional(), DeskState),
  'presence:set': ask('tasks:work', z.strictObject({ presence: Presence }), AgentState),
  'task:accept': ask('tasks:work', z.strictObject({ taskId: Uuid }), Task),
  'task:decline': ask('tasks:work', z.strictObject({ taskId: Uuid }), z.object({ taskId: Uuid })),
  /** Done handling: the task goes to wrap-up (a chat ends for the visitor too). */
  'task:end': ask('tasks:work', z.strictObject({ taskId: Uuid }), Task),
  'task:wrap-up': ask('tasks:work', WrapUp.extend({ taskId: Uuid }), Task),
};
const deskServer = {
  /** A task offered to me; accept before `task.offer.expiresAt`. */
  'task:offered': z.object({ task: Task }),
  /** One of my tasks changed (assigned, wrapping up, completed). */
  'task:updated': z.object({ task: Task }),
  /** A task is no longer mine: the offer expired or was withdrawn, the task was cancelled or reassigned. */
  'task:revoked': z.object({ taskId: Uuid, reason: z.enum(['expired', 'withdrawn', 'cancelled', 'abandoned', 'reassigned', 'transferred']) }),
  /** My own agent state (e.g. a supervisor set my presence). */
  'agent:updated': z.object({ agent: AgentState }),
};

// --- /chat: the shopper's widget (no staff auth; auth.token is the signed chat-session token) ----

export const ShopperClientEvents = {
  /** The session and every message so far. */
  'chat:state': ask(null, Empty.optional(), VisitorSessionWithMessages),
  /** After a reconnect: the messages after the last seq seen. */
  'chat:resume': ask(null, z.strictObject({ afterSeq: z.number().int().min(0) }), VisitorSessionWithMessages),
  'chat:send': ask(null, z.strictObject({ clientId: ClientMessageId, body: FreeText(4000).pipe(z.string().min(1)) }), SendAck),
  'chat:typing': ask(null, z.strictObject({ typing: z.boolean() }), Nothing),
  'chat:receipt': ask(null, ReceiptRequest, ChatReceipts),
  'chat:end': ask(null, Empty.optional(), VisitorSessionView),
  /** Emails the transcript to the pre-chat address. */
  'chat:transcript': ask(null, Empty.optional(), z.object({ queued: z.literal(true) })),
  /** After the chat: anonymous, stored with no link to the visitor or the session. Once per session. */
  'chat:survey': ask(null, Survey, z.object({ recorded: z.literal(true) })),
} satisfies ClientEventMap;

export const ShopperServerEvents = {
  'chat:message': ChatMessage,
  'chat:typing': ChatTyping,
  'chat:receipt': ChatReceiptUpdate,
  'chat:queue': QueueEstimate,
  'chat:session': VisitorSessionView,
} satisfies ServerEventMap;

// --- /agent: CSRs and supervisors at their desk -------------------------------------------------

export const TransferTarget = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('agent'), staffUserId: StaffUserId }),
  /** Back to the chat queue, optionally for another language; the task keeps its age. */
  z.strictObject({ kind: z.literal('queue'), language: Language.optional() }),
]);
/** Storefront pages an agent may link to (the chat itself takes no orders). */
export const LinkTarget = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('home') }),
  z.strictObject({ kind: z.literal('cart') }),
  z.strictObject({ kind: z.literal('product'), sku: z.string().regex(/^[A-Za-z0-9-]{1,40}$/) }),
]);
export const CustomerOrders = z.object({
  /** The account matching the pre-chat email, if exactly one does. */
  customer: z.object({ customerId: z.string(), firstName: z.string(), lastName: z.string(), emailMasked: z.string().nullable() }).nullable(),
  orders: z.array(z.object({ orderNumber: z.string(), status: z.string(), statusText: z.string(), placedAt: z.string(), channel: z.string(), itemCount: z.number().int(), totalCents: z.number().int() })),
});
export const LeftMessageView = z.object({ messageId: Uuid, taskId: Uuid, name: z.string(), email: z.string(), topic: z.string(), language: z.string(), body: z.string(), receivedAt: z.string() });
export const TransferCandidate = z.object({ staffUserId: StaffUserId, displayName: z.string(), presence: Presence, spareChatCapacity: z.number().int().min(0) });

export const AgentClientEvents = {
  ...staffCommonClient('chat:handle'),
  ...deskClient,
  /** Join a chat I am assigned: the session and its messages (notes and whispers to me included). */
  'chat:open': ask('chat:handle', z.strictObject({ sessionId: Uuid }), StaffSessionWithMessages),
  'chat:resume': ask('chat:handle', ResumeRequest, ResumeAck),
  'chat:send': ask('chat:handle', StaffChatSend, SendAck),
  /** A link to the storefront (chat takes no orders: the customer orders there). */
  'chat:send-link': ask('chat:handle', z.strictObject({ sessionId: Uuid, clientId: ClientMessageId, target: LinkTarget }), SendAck),
  'chat:typing': ask('chat:handle', z.strictObject({ sessionId: Uuid, typing: z.boolean() }), Nothing),
  'chat:receipt': ask('chat:handle', ReceiptRequest.extend({ sessionId: Uuid }), ChatReceipts),
  'chat:transfer': ask('chat:handle', z.strictObject({ sessionId: Uuid, to: TransferTarget }), z.object({ taskId: Uuid })),
  'chat:invite-supervisor': ask('chat:handle', z.strictObject({ sessionId: Uuid, note: FreeText(300).optional() }), z.object({ invited: z.literal(true) })),
  /** Agents I can transfer a chat to (available, with a free chat slot). */
  'agents:transfer-candidates': ask('chat:handle', Empty.optional(), z.array(TransferCandidate)),
  'canned:list': ask('chat:handle', Empty.optional(), z.array(CannedResponse)),
  /** A canned response with its placeholders filled for this chat, ready to edit and send. */
  'canned:render': ask('chat:handle', z.strictObject({ sessionId: Uuid, cannedId: Uuid }), z.object({ body: z.string() })),
  /** A left message behind a task I hold (audited). */
  'message:open': ask('tasks:work', z.strictObject({ taskId: Uuid }), LeftMessageView),
  /** The visitor's account and orders, matched by the pre-chat email (audited). */
  'customer:orders': ask('orders:read', z.strictObject({ sessionId: Uuid }), CustomerOrders),
} satisfies ClientEventMap;

export const AgentServerEvents = {
  ...staffCommonServer,
  ...deskServer,
  'chat:message': ChatMessage,
  'chat:typing': ChatTyping,
  'chat:receipt': ChatReceiptUpdate,
  'chat:session': StaffSessionView,
} satisfies ServerEventMap;

// --- /supervisor: the floor and the supervisor's tools ------------------------------------------

export const ChatInvitation = z.object({ sessionId: Uuid, from: z.object({ staffUserId: StaffUserId, displayName: z.string() }), note: z.string().nullable(), at: z.string() });

export const SupervisorClientEvents = {
  ...staffCommonClient('chat:monitor'),
  /** The floor now; `floor:*` updates follow until `floor:unsubscribe` or disconnect. */
  'floor:subscribe': ask('tasks:supervise', Empty.optional(), FloorSnapshot),
  'floor:unsubscribe': ask('tasks:supervise', Empty.optional(), Nothing),
  'tasks:list': ask('tasks:supervise', z.strictObject({ states: z.array(TaskState).max(7).optional(), channel: TaskChannel.optional() }).optional(), z.array(Task)),
  /** Silent monitoring: the visitor and the agent are not told. */
  'chat:monitor': ask('chat:monitor', z.strictObject({ sessionId: Uuid }), StaffSessionWithMessages),
  'chat:unmonitor': ask('chat:monitor', z.strictObject({ sessionId: Uuid }), Nothing),
  'chat:resume': ask('chat:monitor', ResumeRequest, ResumeAck),
  /** A message only the assigned agent sees. */
  'chat:whisper': ask('chat:monitor', z.strictObject({ sessionId: Uuid, clientId: ClientMessageId, body: FreeText(4000).pipe(z.string().min(1)) }), SendAck),
  /** Join the chat openly; the visitor is told a supervisor joined. */
  'chat:barge': ask('chat:monitor', z.strictObject({ sessionId: Uuid }), StaffSessionView),
  /** After barging in: a message to everyone (`all`) or an internal note. */
  'chat:send': ask('chat:monitor', StaffChatSend, SendAck),
  'task:reassign': ask('tasks:supervise', z.strictObject({ taskId: Uuid, toStaffUserId: StaffUserId }), Task),
  'agent:set-presence': ask('tasks:supervise', z.strictObject({ staffUserId: StaffUserId, presence: Presence }), AgentState),
  'agent:configure': ask('tasks:supervise', AgentConfigureRequest, AgentState),
} satisfies ClientEventMap;

export const SupervisorServerEvents = {
  ...staffCommonServer,
  'floor:agent': FloorAgentUpdate,
  'floor:queue': FloorQueueUpdate,
  'floor:chat': FloorChatUpdate,
  'floor:task': z.object({ task: Task }),
  'chat:message': ChatMessage,
  'chat:typing': ChatTyping,
  'chat:receipt': ChatReceiptUpdate,
  'chat:session': StaffSessionView,
  /** An agent asks a supervisor to join a chat. */
  'chat:invitation': ChatInvitation,
} satisfies ServerEventMap;

// --- /fraud: analysts ------------------------------------------------------------------------------

export const FraudClientEvents = {
  ...staffCommonClient('fraud:review'),
  ...deskClient,
  /** The review behind a task I hold (audited). */
  'fraud:detail': ask('fraud:review', z.strictObject({ taskId: Uuid }), FraudReviewDetail),
  /** Approve (the order goes on to payment) or decline, through the fraud service (audited); the task goes to wrap-up. */
  'fraud:decide': ask('fraud:review', FraudDecisionRequest, z.object({ task: Task, detail: FraudReviewDetail })),
} satisfies ClientEventMap;

export const DomainEventMessage = z.object({ id: z.string(), type: z.string(), at: z.string(), data: z.record(z.string(), z.unknown()) });

export const FraudServerEvents = {
  ...staffCommonServer,
  ...deskServer,
  /** Platform events of the review queue (`order.review_required`). */
  'domain-event': DomainEventMessage,
} satisfies ServerEventMap;

// --- /calls: waiting calls and callbacks (part 2 builds the softphone on it) ---------------------

export const CallsClientEvents = {
  ...staffCommonClient('calls:read'),
} satisfies ClientEventMap;

export const CallsServerEvents = {
  ...staffCommonServer,
  /** `call.waiting`, `call.left_queue`, `call.connected`, `callback.requested`. */
  'domain-event': DomainEventMessage,
} satisfies ServerEventMap;

// --- every namespace ---------------------------------------------------------------------------

export const NAMESPACES = {
  '/chat': { permission: null, client: ShopperClientEvents, server: ShopperServerEvents },
  '/agent': { permission: 'chat:handle', client: AgentClientEvents, server: AgentServerEvents },
  '/supervisor': { permission: 'chat:monitor', client: SupervisorClientEvents, server: SupervisorServerEvents },
  '/fraud': { permission: 'fraud:review', client: FraudClientEvents, server: FraudServerEvents },
  '/calls': { permission: 'calls:read', client: CallsClientEvents, server: CallsServerEvents },
} as const satisfies Record<string, { permission: Permission | null; client: ClientEventMap; server: ServerEventMap }>;
export type NamespaceName = keyof typeof NAMESPACES;

export type ShopperSocketTypes = { listen: ServerToClient<typeof ShopperServerEvents>; emit: ClientToServer<typeof ShopperClientEvents> };
export type AgentSocketTypes = { listen: ServerToClient<typeof AgentServerEvents>; emit: ClientToServer<typeof AgentClientEvents> };
export type SupervisorSocketTypes = { listen: ServerToClient<typeof SupervisorServerEvents>; emit: ClientToServer<typeof SupervisorClientEvents> };
export type FraudSocketTypes = { listen: ServerToClient<typeof FraudServerEvents>; emit: ClientToServer<typeof FraudClientEvents> };
export type CallsSocketTypes = { listen: ServerToClient<typeof CallsServerEvents>; emit: ClientToServer<typeof CallsClientEvents> };
