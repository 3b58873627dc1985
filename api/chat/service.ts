import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import { BusinessRuleError, ConflictError, ForbiddenError, NotFoundError, parseOrThrow, RateLimitedError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AuditRecordInput } from '../audit/service.ts';
import type { Principal } from '../http/principal.ts';
import { runScript } from '../inventory/lua.ts';
import type { TaskChange, TaskService } from '../tasks/service.ts';
import type { Task } from '../tasks/schema.ts';
import { maskCardNumbers } from './card-mask.ts';
import { cannedResponseModel, chatMessageModel, chatSessionModel, chatSurveyModel, leftMessageModel, type CannedResponseDoc, type ChatMessageDoc, type ChatSessionDoc, type LeftMessageDoc } from './model.ts';
import {
  CannedResponseInput,
  LeaveMessageRequest,
  PreChatForm,
  Survey,
  type CannedResponse,
  type ChatAuthorKind,
  type ChatMessage,
  type ChatReceipts,
  type ChatStartResponse,
  type ChatVisibility,
  type StaffSessionView,
  type VisitorSessionView,
} from './schema.ts';
import { ASSIGN_SEQ, RECEIPT } from './lua.ts';
import { issueChatToken, verifyChatToken } from './tokens.ts';

/**
 * Live chat: sessions from the pre-chat form, messages with ids and per-session sequence numbers,
 * delivery and read receipts, transcripts, the anonymous survey, left messages and canned
 * responses. A chat is a task (channel `chat`): routing decides who takes it; this service follows
 * the task's changes (an agent accepted, the chat was transferred, ...) and keeps the session in step.
 *
 * Card numbers are masked here, before a message is stored, broadcast or logged. Messages are
 * stored before they are announced, so a replay from Mongo always has what a client may have seen.
 */

type StaffPrincipal = Extract<Principal, { type: 'staff' }>;

export type ChatChange =
  | { kind: 'message'; message: ChatMessage }
  | { kind: 'session'; sessionId: string }
  | { kind: 'receipts'; sessionId: string; receipts: ChatReceipts }
  | { kind: 'invitation'; sessionId: string; from: { staffUserId: string; displayName: string }; note: string | null; at: string };

export type Audience = { kind: 'visitor' } | { kind: 'agent'; staffUserId: string } | { kind: 'supervisor'; staffUserId: string };

export interface OpeningHours {
  open: boolean;
  nextOpening: { date: string; open: string; timeZone: string } | null;
}

export interface ChatServiceDeps {
  mongo: Connection;
  redis: Redis;
  redisPrefix: string;
  clock: Clock;
  logger: Logger;
  audit: { record(entry: AuditRecordInput): Promise<unknown> };
  tasks: TaskService;
  appSecret: string;
  storeName: string;
  /** Where storefront links point. */
  storefrontBaseUrl: string;
  /** The IVR's opening hours decide when chat is staffed too. */
  openingHours(): Promise<OpeningHours>;
  sendTranscript(input: { to: string; startedAt?: string; lines: { at?: string; from: 'customer' | 'agent' | 'system'; name?: string; text: string }[] }): Promise<{ eventId: string }>;
  findCustomersByEmail(actor: StaffPrincipal, email: string): Promise<{ id: string; firstName: string; lastName: string; emailMasked: string | null }[]>;
  ordersOfCustomer(customerId: string): Promise<{ orderNumber: string; status: string; statusText: string; placedAt: string; channel: string; itemCount: number; totalCents: number }[]>;
  productName(sku: string): Promise<string | undefined>;
  /** How long a visitor's chat token is valid. @defaultValue 12 hours */
  tokenTtlMs?: number;
}

const DUPLICATE_KEY = 11000;
const isDuplicateKey = (error: unknown) => (error as { code?: number })?.code === DUPLICATE_KEY || /duplicate key/i.test(String((error as Error)?.message));
const pad = (seq: number) => String(seq).padStart(8, '0');
const firstNameOf = (name: string) => name.trim().split(/\s+/)[0] ?? name;
const MAX_TRANSCRIPTS_PER_SESSION = 3;

export function createChatService(deps: ChatServiceDeps) {
  const { redis, clock, logger, audit, tasks } = deps;
  const Sessions = chatSessionModel(deps.mongo);
  const Messages = chatMessageModel(deps.mongo);
  const LeftMessages = leftMessageModel(deps.mongo);
  const Surveys = chatSurveyModel(deps.mongo);
  const Canned = cannedResponseModel(deps.mongo);
  const base = `${deps.redisPrefix}:chat{c}:`;
  const sessionKey = (sessionId: string) => `${base}s:${sessionId}`;
  const listeners = new Set<(change: ChatChange) => void>();

  let indexes: Promise<void> | undefined;
  const ready = () => {
    indexes ??= Promise.all([Sessions.init(), Messages.init(), LeftMessages.init(), Surveys.init(), Canned.init()]).then(() => undefined);
    indexes.catch(() => (indexes = undefined));
    return indexes;
  };

  function emit(change: ChatChange) {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        logger.error({ err: error }, 'chat change listener failed');
      }
    }
  }

  // --- views ---

  async function receiptsOf(sessionId: string): Promise<ChatReceipts & { lastSeq: number }> {
    const [seq, vd, vr, ad, ar] = await redis.hmget(sessionKey(sessionId), 'seq', 'vd', 'vr', 'ad', 'ar');
    return {
      lastSeq: Number(seq ?? 0),
      visitor: { deliveredSeq: Number(vd ?? 0), readSeq: Number(vr ?? 0) },
      agent: { deliveredSeq: Number(ad ?? 0), readSeq: Number(ar ?? 0) },
    };
  }

  async function loadSession(sessionId: string): Promise<ChatSessionDoc> {
    await ready();
    const doc = await Sessions.findById(sessionId).lean<ChatSessionDoc>();
    if (!doc) throw new NotFoundError('chat', 'chat.not_found', 'No such chat.');
    return doc;
  }

  async function visitorView(doc: ChatSessionDoc): Promise<VisitorSessionView> {
    const { lastSeq, ...receipts } = await receiptsOf(doc._id);
    const waiting = doc.state === 'waiting';
    const surveyAnswered = doc.state === 'ended' ? (await redis.exists(`${base}survey:${doc._id}`)) === 1 : false;
    return {
      sessionId: doc._id,
      state: doc.state,
      agentFirstName: doc.agent?.firstName ?? null,
      queue: waiting ? await tasks.estimate('chat', doc.taskId).catch(() => null) : null,
      lastSeq,
      receipts,
      endedBy: doc.endedBy,
      surveyAnswered,
    };
  }

  async function staffView(doc: ChatSessionDoc): Promise<StaffSessionView> {
    const { lastSeq, ...receipts } = await receiptsOf(doc._id);
    return {
      sessionId: doc._id,
      taskId: doc.taskId,
      state: doc.state,
      visitor: doc.visitor,
      agent: doc.agent,
      supervisors: doc.supervisors,
      startedAt: doc.startedAt.toISOString(),
      assignedAt: doc.assignedAt ? doc.assignedAt.toISOString() : null,
      endedAt: doc.endedAt ? doc.endedAt.toISOString() : null,
      lastSeq,
      receipts,
    };
  }

  function messageView(doc: ChatMessageDoc, audience: Audience): ChatMessage {
    const staffAuthor = doc.author.kind === 'agent' || doc.author.kind === 'supervisor';
    return {
      id: doc._id,
      seq: doc.seq,
      sessionId: doc.sessionId,
      clientId: doc.clientId,
      author: {
        kind: doc.author.kind,
        // Visitors see staff by first name only, and never their ids.
        name: audience.kind === 'visitor' && staffAuthor ? firstNameOf(doc.author.name) : doc.author.name,
        ...(audience.kind !== 'visitor' && doc.author.staffUserId ? { staffUserId: doc.author.staffUserId } : {}),
      },
      body: doc.body,
      visibility: doc.visibility,
      ...(doc.whisperTo && audience.kind !== 'visitor' ? { whisperTo: doc.whisperTo } : {}),
      ...(doc.link ? { link: doc.link } : {}),
      createdAt: doc.createdAt.toISOString(),
    };
  }

  /** Whether the audience may see a message at all. */
  function visibleTo(message: Pick<ChatMessage, 'visibility' | 'whisperTo'>, audience: Audience): boolean {
    if (message.visibility === 'all') return true;
    if (audience.kind === 'visitor') return false;
    if (message.visibility === 'internal') return true;
    return audience.kind === 'supervisor' || message.whisperTo === audience.staffUserId;
  }

  async function messagesAfter(sessionId: string, afterSeq: number, audience: Audience): Promise<ChatMessage[]> {
    await ready();
    const docs = await Messages.find({ _id: { $gt: `${sessionId}:${pad(afterSeq)}`, $lt: `${sessionId}:~` } })
      .sort({ _id: 1 })
      .limit(2000)
      .lean<ChatMessageDoc[]>();
    return docs.map((d) => messageView(d, audience)).filter((m) => visibleTo(m, audience));
  }

  async function updateSession(sessionId: string, set: Partial<ChatSessionDoc>, redisFields?: Record<string, string>): Promise<void> {
    await Sessions.updateOne({ _id: sessionId }, { $set: set });
    if (redisFields) await redis.hset(sessionKey(sessionId), redisFields);
    emit({ kind: 'session', sessionId });
  }

  // --- messages ---

  interface SendInput {
    sessionId: string;
    author: { kind: ChatAuthorKind; name: string; staffUserId: string | null };
    clientId: string | null;
    body: string;
    visibility: ChatVisibility;
    whisperTo?: string | null;
    link?: { label: string; url: string } | null;
  }

  async function store(input: SendInput): Promise<{ message: ChatMessageDoc; duplicate: boolean }> {
    await ready();
    // Masked first: nothing below (Redis, Mongo, sockets, logs) ever sees the number.
    const body = maskCardNumbers(input.body);
    const authorKey = input.author.staffUserId ?? input.author.kind;
    const dedupeKey = `${input.sessionId}:${authorKey}:${input.clientId ?? `sys-${randomUUID()}`}`;
    const allowAfterEnd = input.author.kind === 'system' || input.visibility === 'internal' ? 1 : 0;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const [status, seq] = (await runScript(redis, ASSIGN_SEQ, [], [base, input.sessionId, dedupeKey, allowAfterEnd])) as [number, number];
      if (status === -1) throw new BusinessRuleError('chat.ended', 'This chat has ended.');
      if (status === -2) throw new NotFoundError('chat', 'chat.not_found', 'No such chat.');
      if (status === 0) {
        // A resend: answer with what the first attempt stored. If it is not in Mongo, the process
        // that took the seq died before writing: store it now under that seq (the unique _id and
        // dedupe key settle a race with a first attempt that is only slow).
        const existing = await Messages.findOne({ dedupeKey }).lean<ChatMessageDoc>();
        if (existing) return { message: existing, duplicate: true };
      }
      const doc: ChatMessageDoc = {
        _id: `${input.sessionId}:${pad(seq)}`,
        sessionId: input.sessionId,
        seq,
        dedupeKey,
        clientId: input.clientId,
        author: input.author,
        body,
        visibility: input.visibility,
        whisperTo: input.whisperTo ?? null,
        link: input.link ?? null,
        createdAt: clock(),
      };
      try {
        await Messages.create(doc);
        return { message: doc, duplicate: status === 0 };
      } catch (error) {
        if (!isDuplicateKey(error)) {
          await redis.del(`${base}cid:${dedupeKey}`).catch(() => undefined);
          throw error;
        }
        const existing = await Messages.findOne({ dedupeKey }).lean<ChatMessageDoc>();
        if (existing) return { message: existing, duplicate: true };
        // The seq was taken: Redis lost the session's counter. Resume after the highest stored seq.
        const last = await Messages.findOne({ sessionId: input.sessionId }).sort({ _id: -1 }).lean<ChatMessageDoc>();
        await redis.del(`${base}cid:${dedupeKey}`);
        await redis.hset(sessionKey(input.sessionId), 'seq', String(last?.seq ?? 0));
        logger.warn({ sessionId: input.sessionId }, 'chat: message sequence resynchronised from Mongo');
      }
    }
    throw new ConflictError('chat.send_failed', 'The message could not be stored; try again.');
  }

  async function send(input: SendInput) {
    const { message, duplicate } = await store(input);
    // A resend is announced again: the first attempt may have been stored by a process that died
    // before announcing it. Receivers keep one copy per seq (the contract's rule), so this is safe.
    emit({ kind: 'message', message: messageView(message, { kind: 'supervisor', staffUserId: '' }) });
    if (!duplicate) void redis.hset(sessionKey(input.sessionId), 'last', String(message.createdAt.getTime())).catch(() => undefined);
    return { message, duplicate };
  }

  const ack = (message: ChatMessageDoc, duplicate: boolean) => ({ id: message._id, seq: message.seq, createdAt: message.createdAt.toISOString(), body: message.body, duplicate });
  const systemMessage = (sessionId: string, body: string) => send({ sessionId, author: { kind: 'system', name: deps.storeName, staffUserId: null }, clientId: null, body, visibility: 'all' });

  // --- who may do what in a session ---

  async function sessionFields(sessionId: string) {
    const [state, agent, visitorName, taskId] = await redis.hmget(sessionKey(sessionId), 'state', 'agent', 'visitor', 'task');
    if (!state) throw new NotFoundError('chat', 'chat.not_found', 'No such chat.');
    return { state, agent: agent || null, visitorName: visitorName ?? 'Visitor', taskId: taskId ?? '' };
  }

  async function requireAgentOf(sessionId: string, actor: StaffPrincipal) {
    const fields = await sessionFields(sessionId);
    if (fields.agent !== actor.staffUserId) throw new ForbiddenError('chat.not_your_chat', 'This chat is not assigned to you.');
    return fields;
  }

  async function isBarged(sessionId: string, staffUserId: string) {
    return (await redis.sismember(`${sessionKey(sessionId)}:sup`, staffUserId)) === 1;
  }

  // --- following the chat's task ---

  async function onTaskChange(change: TaskChange) {
    if (change.kind !== 'task' || change.task.summary.channel !== 'chat') return;
    const { task } = change;
    const sessionId = change.task.summary.sessionId;
    const doc = await Sessions.findById(sessionId).lean<ChatSessionDoc>();
    if (!doc) return;
    if (task.state === 'assigned' && task.assignee && doc.agent?.staffUserId !== task.assignee.staffUserId) {
      const firstName = firstNameOf(task.assignee.displayName);
      const takingOver = doc.agent !== null || change.previousState === 'assigned';
      await updateSession(sessionId, { state: 'active', agent: { staffUserId: task.assignee.staffUserId, firstName }, assignedAt: doc.assignedAt ?? clock() }, { state: 'active', agent: task.assignee.staffUserId, agentFirst: firstName });
      await systemMessage(sessionId, takingOver ? `${firstName} has taken over the chat.` : `${firstName} joined the chat.`);
    } else if (task.state === 'pending' && doc.state === 'active') {
      await updateSession(sessionId, { state: 'waiting', agent: null }, { state: 'waiting', agent: '', agentFirst: '' });
      await systemMessage(sessionId, 'Please hold on: we are finding the right person to continue.');
    } else if (['wrapping_up', 'completed', 'cancelled', 'abandoned'].includes(task.state) && doc.state !== 'ended') {
      await closeSession(doc, task.state === 'wrapping_up' || task.state === 'completed' ? 'agent' : 'system');
    }
  }

  async function closeSession(doc: ChatSessionDoc, by: 'visitor' | 'agent' | 'system') {
    const { lastSeq: _last, ...receipts } = await receiptsOf(doc._id);
    const last = await redis.hget(sessionKey(doc._id), 'last');
    await redis.hset(sessionKey(doc._id), 'state', 'ended');
    await systemMessage(doc._id, by === 'visitor' ? 'The visitor ended the chat.' : 'The chat has ended.').catch(() => undefined);
    await updateSession(doc._id, { state: 'ended', endedAt: clock(), endedBy: by, receipts, lastMessageAt: last ? new Date(Number(last)) : doc.lastMessageAt });
  }

  tasks.onChange((change) => onTaskChange(change).catch((error: Error) => logger.error({ err: error.message }, 'chat: following a task change failed')));

  const service = {
    onChange(listener: (change: ChatChange) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    visibleTo,

    async availability(language = 'en'): Promise<{ open: boolean; agentsAvailable: boolean; nextOpening: OpeningHours['nextOpening'] }> {
      const hours = await deps.openingHours();
      const agentsAvailable = hours.open && ((await tasks.canServe('chat', language)) || (await tasks.canServe('chat', 'en')));
      return { open: hours.open, agentsAvailable, nextOpening: hours.open ? null : hours.nextOpening };
    },

    /** The pre-chat form: a session and its task, or (closed, nobody available) the invitation to leave a message. */
    async start(input: unknown): Promise<ChatStartResponse> {
      const form = parseOrThrow(PreChatForm, input);
      await ready();
      const hours = await deps.openingHours();
      if (!hours.open) return { mode: 'leave_message', reason: 'closed', nextOpening: hours.nextOpening };
      // Nobody speaks the visitor's language right now: English rather than no chat at all.
      const language = (await tasks.canServe('chat', form.language)) ? form.language : (await tasks.canServe('chat', 'en')) ? 'en' : undefined;
      if (!language) return { mode: 'leave_message', reason: 'nobody_available', nextOpening: null };
      const sessionId = randomUUID();
      const now = clock();
      const doc: ChatSessionDoc = {
        _id: sessionId,
        taskId: '',
        state: 'waiting',
        visitor: { name: form.name, email: form.email, topic: form.topic, language },
        agent: null,
        supervisors: [],
        startedAt: now,
        assignedAt: null,
        endedAt: null,
        endedBy: null,
        lastMessageAt: null,
        receipts: null,
        transcriptRequestedAt: null,
      };
      await Sessions.create(doc);
      await redis.hset(sessionKey(sessionId), { state: 'waiting', visitor: firstNameOf(form.name), seq: '0', vd: '0', vr: '0', ad: '0', ar: '0' });
      const task = await tasks.create({
        source: { kind: 'chat', ref: sessionId },
        channel: 'chat',
        language,
        summary: { channel: 'chat', sessionId, visitorFirstName: firstNameOf(form.name), topic: form.topic },
      });
      await Sessions.updateOne({ _id: sessionId }, { $set: { taskId: task.id } });
      await redis.hset(sessionKey(sessionId), 'task', task.id);
      logger.info({ sessionId, taskId: task.id, topic: form.topic }, 'chat started');
      return { mode: 'chat', sessionId, token: issueChatToken(deps.appSecret, sessionId, new Date(now.getTime() + (deps.tokenTtlMs ?? 12 * 3600_000))), queue: await tasks.estimate('chat', task.id) };
    },

    verifyToken(token: string): string | undefined {
      return verifyChatToken(deps.appSecret, token, clock());
    },

    /** A message left when chat is closed or nobody can take it: stored, and a task for the next agent. */
    async leaveMessage(input: unknown): Promise<{ messageId: string; receivedAt: string }> {
      const data = parseOrThrow(LeaveMessageRequest, input);
      await ready();
      const doc: LeftMessageDoc = { _id: randomUUID(), name: data.name, email: data.email, topic: data.topic, language: data.language, body: maskCardNumbers(data.body), receivedAt: clock(), taskId: null };
      await LeftMessages.create(doc);
      const task = await tasks.create({
        source: { kind: 'message', ref: doc._id },
        channel: 'message',
        priority: 3,
        language: data.language,
        summary: { channel: 'message', messageId: doc._id, visitorFirstName: firstNameOf(data.name), topic: data.topic, preview: doc.body.slice(0, 140) },
      });
      await LeftMessages.updateOne({ _id: doc._id }, { $set: { taskId: task.id } });
      logger.info({ messageId: doc._id, taskId: task.id }, 'chat: message left');
      return { messageId: doc._id, receivedAt: doc.receivedAt.toISOString() };
    },

    async leftMessage(actor: StaffPrincipal, task: Task) {
      if (task.summary.channel !== 'message') throw new NotFoundError('message', 'chat.message_not_found', 'This task has no left message.');
      await ready();
      const doc = await LeftMessages.findById(task.summary.messageId).lean<LeftMessageDoc>();
      if (!doc) throw new NotFoundError('message', 'chat.message_not_found', 'No such message.');
      await audit.record({ actor, action: 'chat.left_message_read', resource: { type: 'chat_message', id: doc._id }, outcome: 'success', details: { taskId: task.id } });
      return { messageId: doc._id, taskId: task.id, name: doc.name, email: doc.email, topic: doc.topic, language: doc.language, body: doc.body, receivedAt: doc.receivedAt.toISOString() };
    },

    // --- the visitor ---

    async visitorState(sessionId: string, afterSeq = 0) {
      const doc = await loadSession(sessionId);
      return { session: await visitorView(doc), messages: await messagesAfter(sessionId, afterSeq, { kind: 'visitor' }) };
    },

    async visitorSession(sessionId: string): Promise<VisitorSessionView> {
      return visitorView(await loadSession(sessionId));
    },

    async visitorSend(sessionId: string, clientId: string, body: string) {
      const { visitorName } = await sessionFields(sessionId);
      const { message, duplicate } = await send({ sessionId, author: { kind: 'visitor', name: visitorName, staffUserId: null }, clientId, body, visibility: 'all' });
      return ack(message, duplicate);
    },

    async visitorEnd(sessionId: string): Promise<VisitorSessionView> {
      const doc = await loadSession(sessionId);
      if (doc.state !== 'ended') {
        await closeSession(doc, 'visitor');
        const [task] = await tasks.openTasksOfSource(sessionId);
        if (task?.state === 'assigned') await tasks.end(null, task.id);
        else if (task) await tasks.cancel(task.id, 'abandoned', 'visitor ended the chat while waiting');
      }
      return visitorView(await loadSession(sessionId));
    },

    /** The visitor left while waiting and did not come back: the task is abandoned. */
    async abandonIfWaiting(sessionId: string): Promise<boolean> {
      const doc = await Sessions.findById(sessionId).lean<ChatSessionDoc>();
      if (doc?.state !== 'waiting') return false;
      const open = await tasks.openTasksOfSource(sessionId);
      if (open.some((t) => t.state === 'assigned' || t.state === 'wrapping_up')) return false;
      await closeSession(doc, 'system');
      for (const task of open) await tasks.cancel(task.id, 'abandoned', 'visitor left the queue');
      return true;
    },

    async requestTranscript(sessionId: string): Promise<{ queued: true }> {
      const doc = await loadSession(sessionId);
      const count = await redis.incr(`${base}transcripts:${sessionId}`);
      await redis.expire(`${base}transcripts:${sessionId}`, 7 * 86400);
      if (count > MAX_TRANSCRIPTS_PER_SESSION) throw new RateLimitedError(3600, 'chat.transcript_limit', 'The transcript has already been sent.');
      const messages = await messagesAfter(sessionId, 0, { kind: 'visitor' });
      if (!messages.length) throw new BusinessRuleError('chat.transcript_empty', 'There is nothing to send yet.');
      await deps.sendTranscript({
        to: doc.visitor.email,
        startedAt: doc.startedAt.toISOString(),
        lines: messages.map((m) => ({ at: m.createdAt, from: m.author.kind === 'visitor' ? 'customer' : m.author.kind === 'system' ? 'system' : 'agent', name: m.author.kind === 'visitor' ? 'You' : m.author.name, text: m.link ? `${m.body} ${m.link.url}` : m.body })),
      });
      await Sessions.updateOne({ _id: sessionId }, { $set: { transcriptRequestedAt: clock() } });
      return { queued: true };
    },

    /** Once per ended chat. Stored with no session, person or precise time (PIA: anonymous survey). */
    async survey(sessionId: string, input: unknown): Promise<{ recorded: true }> {
      const data = parseOrThrow(Survey, input);
      const doc = await loadSession(sessionId);
      if (doc.state !== 'ended') throw new BusinessRuleError('chat.survey_too_early', 'The survey opens when the chat has ended.');
      if ((await redis.set(`${base}survey:${sessionId}`, '1', 'EX', 30 * 86400, 'NX')) !== 'OK') throw new ConflictError('chat.survey_answered', 'Thank you: this chat has been rated already.');
      await Surveys.create({ _id: randomUUID(), rating: data.rating, comment: data.comment ? maskCardNumbers(data.comment) : null, day: clock().toISOString().slice(0, 10) });
      return { recorded: true };
    },

    async receipt(sessionId: string, side: 'visitor' | 'agent', marks: { deliveredSeq?: number | undefined; readSeq?: number | undefined }): Promise<ChatReceipts> {
      const [d, r] = side === 'visitor' ? ['vd', 'vr'] : ['ad', 'ar'];
      const changedFlag = Number(await runScript(redis, RECEIPT, [], [sessionKey(sessionId), d!, marks.deliveredSeq ?? 0, r!, marks.readSeq ?? 0]));
      const { lastSeq: _last, ...receipts } = await receiptsOf(sessionId);
      if (changedFlag) emit({ kind: 'receipts', sessionId, receipts });
      return receipts;
    },

    // --- staff ---

    async staffSession(sessionId: string): Promise<StaffSessionView> {
      return staffView(await loadSession(sessionId));
    },

    async staffVisibleSessionOf(sessionId: string) {
      return sessionFields(sessionId);
    },

    /** The assigned agent opens the chat (audited: a read of the visitor's name, email and words). */
    async agentOpen(actor: StaffPrincipal, sessionId: string, afterSeq = 0) {
      const fields = await sessionFields(sessionId);
      if (fields.agent !== actor.staffUserId && !(await isBarged(sessionId, actor.staffUserId))) throw new ForbiddenError('chat.not_your_chat', 'This chat is not assigned to you.');
      const doc = await loadSession(sessionId);
      if (afterSeq === 0) await audit.record({ actor, action: 'chat.read', resource: { type: 'chat', id: sessionId }, outcome: 'success' });
      return { session: await staffView(doc), messages: await messagesAfter(sessionId, afterSeq, { kind: 'agent', staffUserId: actor.staffUserId }) };
    },

    /** Silent monitoring by a supervisor: everything, notes and whispers included (audited). */
    async monitor(actor: StaffPrincipal, sessionId: string, afterSeq = 0) {
      const doc = await loadSession(sessionId);
      if (afterSeq === 0) await audit.record({ actor, action: 'chat.monitor', resource: { type: 'chat', id: sessionId }, outcome: 'success' });
      return { session: await staffView(doc), messages: await messagesAfter(sessionId, afterSeq, { kind: 'supervisor', staffUserId: actor.staffUserId }) };
    },

    /** A message from staff: the assigned agent, or a supervisor who barged in (`all`), or any supervisor (internal note). */
    async staffSend(actor: StaffPrincipal, input: { sessionId: string; clientId: string; body: string; visibility: 'all' | 'internal'; link?: { label: string; url: string } }, displayName: string, as: 'agent' | 'supervisor') {
      const fields = await sessionFields(input.sessionId);
      const mayWrite = fields.agent === actor.staffUserId || (as === 'supervisor' && (input.visibility === 'internal' || (await isBarged(input.sessionId, actor.staffUserId))));
      if (!mayWrite) throw new ForbiddenError('chat.not_your_chat', as === 'supervisor' ? 'Join the chat (barge in) before writing to the visitor.' : 'This chat is not assigned to you.');
      const { message, duplicate } = await send({
        sessionId: input.sessionId,
        author: { kind: as, name: displayName, staffUserId: actor.staffUserId },
        clientId: input.clientId,
        body: input.body,
        visibility: input.visibility,
        link: input.link ?? null,
      });
      return ack(message, duplicate);
    },

    async whisper(actor: StaffPrincipal, input: { sessionId: string; clientId: string; body: string }, displayName: string) {
      const fields = await sessionFields(input.sessionId);
      if (!fields.agent) throw new BusinessRuleError('chat.no_agent', 'No agent holds this chat yet.');
      const { message, duplicate } = await send({ sessionId: input.sessionId, author: { kind: 'supervisor', name: displayName, staffUserId: actor.staffUserId }, clientId: input.clientId, body: input.body, visibility: 'whisper', whisperTo: fields.agent });
      return ack(message, duplicate);
    },

    async barge(actor: StaffPrincipal, sessionId: string, displayName: string): Promise<StaffSessionView> {
      const doc = await loadSession(sessionId);
      if (doc.state === 'ended') throw new BusinessRuleError('chat.ended', 'This chat has ended.');
      if (!(await isBarged(sessionId, actor.staffUserId))) {
        await redis.sadd(`${sessionKey(sessionId)}:sup`, actor.staffUserId);
        const firstName = firstNameOf(displayName);
        await updateSession(sessionId, { supervisors: [...doc.supervisors.filter((s) => s.staffUserId !== actor.staffUserId), { staffUserId: actor.staffUserId, firstName }] });
        await systemMessage(sessionId, `${firstName}, a supervisor, joined the chat.`);
        await audit.record({ actor, action: 'chat.barge', resource: { type: 'chat', id: sessionId }, outcome: 'success' });
      }
      return staffView(await loadSession(sessionId));
    },

    async inviteSupervisor(actor: StaffPrincipal, sessionId: string, displayName: string, note: string | undefined) {
      await requireAgentOf(sessionId, actor);
      emit({ kind: 'invitation', sessionId, from: { staffUserId: actor.staffUserId, displayName }, note: note ? maskCardNumbers(note) : null, at: clock().toISOString() });
      return { invited: true as const };
    },

    async transfer(actor: StaffPrincipal, sessionId: string, to: { kind: 'agent'; staffUserId: string } | { kind: 'queue'; language?: string | undefined }) {
      const fields = await requireAgentOf(sessionId, actor);
      const task = to.kind === 'agent' ? await tasks.assign(fields.taskId, to.staffUserId, { from: actor.staffUserId, reason: 'transferred' }) : await tasks.requeue(fields.taskId, { from: actor.staffUserId, ...(to.language ? { language: to.language } : {}) });
      await audit.record({ actor, action: 'chat.transfer', resource: { type: 'chat', id: sessionId }, outcome: 'success', details: to.kind === 'agent' ? { to: to.staffUserId } : { to: 'queue', language: to.language ?? null } });
      return { taskId: task.id };
    },

    /** The visitor's account and orders, by the pre-chat email: a staff read of personal data, audited here. */
    async customerOrders(actor: StaffPrincipal, sessionId: string) {
      const fields = await sessionFields(sessionId);
      if (fields.agent !== actor.staffUserId && !(await isBarged(sessionId, actor.staffUserId))) throw new ForbiddenError('chat.not_your_chat', 'This chat is not assigned to you.');
      const doc = await loadSession(sessionId);
      const matches = await deps.findCustomersByEmail(actor, doc.visitor.email);
      const customer = matches.length === 1 ? matches[0]! : undefined;
      const orders = customer ? await deps.ordersOfCustomer(customer.id) : [];
      await audit.record({ actor, action: 'order.list', resource: { type: 'customer', ...(customer ? { id: customer.id } : {}) }, outcome: 'success', details: { via: 'chat', chat: sessionId, matches: matches.length, count: orders.length } });
      return { customer: customer ? { customerId: customer.id, firstName: customer.firstName, lastName: customer.lastName, emailMasked: customer.emailMasked } : null, orders };
    },

    async linkFor(target: { kind: 'home' } | { kind: 'cart' } | { kind: 'product'; sku: string }): Promise<{ label: string; url: string }> {
      const root = deps.storefrontBaseUrl.replace(/\/+$/, '');
      if (target.kind === 'home') return { label: `${deps.storeName}: shop`, url: `${root}/#/catalog` };
      if (target.kind === 'cart') return { label: 'Your cart', url: `${root}/#/cart` };
      const name = await deps.productName(target.sku);
      if (!name) throw new NotFoundError('product', 'catalog.product_not_found', 'No such product in the store.');
      return { label: name, url: `${root}/#/catalog?sku=${encodeURIComponent(target.sku)}` };
    },

    async inProgress(): Promise<ChatSessionDoc[]> {
      await ready();
      return Sessions.find({ state: { $in: ['waiting', 'active'] } }).sort({ startedAt: 1 }).limit(1000).lean<ChatSessionDoc[]>();
    },

    async lastMessageAt(sessionId: string): Promise<string | null> {
      const last = await redis.hget(sessionKey(sessionId), 'last');
      return last ? new Date(Number(last)).toISOString() : null;
    },

    // --- canned responses ---

    async listCanned(): Promise<CannedResponse[]> {
      await ready();
      const docs = await Canned.find({}).sort({ title: 1 }).lean<CannedResponseDoc[]>();
      return docs.map(cannedView);
    },

    async createCanned(actor: StaffPrincipal, input: unknown): Promise<CannedResponse> {
      const data = parseOrThrow(CannedResponseInput, input);
      await ready();
      const doc: CannedResponseDoc = { _id: randomUUID(), title: data.title, shortcut: data.shortcut, body: maskCardNumbers(data.body), updatedAt: clock(), updatedBy: `staff:${actor.username}` };
      try {
        await Canned.create(doc);
      } catch (error) {
        if (isDuplicateKey(error)) throw new ConflictError('chat.canned_shortcut_taken', `The shortcut /${data.shortcut} is taken.`);
        throw error;
      }
      await audit.record({ actor, action: 'chat.canned_create', resource: { type: 'canned_response', id: doc._id }, outcome: 'success' });
      return cannedView(doc);
    },

    async updateCanned(actor: StaffPrincipal, id: string, input: unknown): Promise<CannedResponse> {
      const data = parseOrThrow(CannedResponseInput, input);
      await ready();
      const set = { title: data.title, shortcut: data.shortcut, body: maskCardNumbers(data.body), updatedAt: clock(), updatedBy: `staff:${actor.username}` };
      let result;
      try {
        result = await Canned.findOneAndUpdate({ _id: id }, { $set: set }, { new: true }).lean<CannedResponseDoc>();
      } catch (error) {
        if (isDuplicateKey(error)) throw new ConflictError('chat.canned_shortcut_taken', `The shortcut /${data.shortcut} is taken.`);
        throw error;
      }
      if (!result) throw new NotFoundError('canned_response', 'chat.canned_not_found', 'No such canned response.');
      await audit.record({ actor, action: 'chat.canned_update', resource: { type: 'canned_response', id }, outcome: 'success' });
      return cannedView(result);
    },

    async deleteCanned(actor: StaffPrincipal, id: string): Promise<void> {
      await ready();
      const result = await Canned.deleteOne({ _id: id });
      if (!result.deletedCount) throw new NotFoundError('canned_response', 'chat.canned_not_found', 'No such canned response.');
      await audit.record({ actor, action: 'chat.canned_delete', resource: { type: 'canned_response', id }, outcome: 'success' });
    },

    /** A canned response with its placeholders filled for this chat. */
    async renderCanned(actor: StaffPrincipal, sessionId: string, cannedId: string, agentDisplayName: string): Promise<{ body: string }> {
      const fields = await requireAgentOf(sessionId, actor);
      await ready();
      const doc = await Canned.findById(cannedId).lean<CannedResponseDoc>();
      if (!doc) throw new NotFoundError('canned_response', 'chat.canned_not_found', 'No such canned response.');
      const values: Record<string, string> = { 'customer.firstName': fields.visitorName, 'agent.firstName': firstNameOf(agentDisplayName), 'store.name': deps.storeName };
      return { body: doc.body.replace(/\{\{\s*([a-zA-Z.]+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole) };
    },

    // --- for the console server ---

    messageView,
    firstNameOf,
  };

  function cannedView(doc: CannedResponseDoc): CannedResponse {
    return { id: doc._id, title: doc.title, shortcut: doc.shortcut, body: doc.body, updatedAt: doc.updatedAt.toISOString(), updatedBy: doc.updatedBy };
  }

  return service;
}

export type ChatService = ReturnType<typeof createChatService>;
