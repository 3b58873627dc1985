import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import { BusinessRuleError, ConflictError, ForbiddenError, NotFoundError, parseOrThrow } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AuditRecordInput } from '../audit/service.ts';
import type { Principal } from '../http/principal.ts';
import { runScript, type LuaScript } from '../inventory/lua.ts';
import type { StaffRole } from '../staff/permissions.ts';
import { maskCardNumbers } from '../chat/card-mask.ts';
import { averageMs, expectedWaitSeconds } from './estimates.ts';
import { ACCEPT, ASSIGN, CANCEL, CHANNEL_FIELDS, CREATE_TASK, DECLINE, END_HANDLING, EXPIRE_OFFERS, REQUEUE, ROUTE, SET_PRESENCE, WRAP_UP } from './lua.ts';
import { agentProfileModel, taskModel, type AgentProfileDoc, type TaskDoc } from './model.ts';
import {
  AgentConfigureRequest,
  isFinalTaskState,
  NewTask,
  TASK_CHANNELS,
  WrapUp,
  type AgentState,
  type Capacity,
  type Presence,
  type QueueEstimate,
  type Task,
  type TaskChannel,
  type TaskState,
  type TaskSummary,
} from './schema.ts';
import { SERVICE_LEVEL_THRESHOLD_SECONDS, SERVICE_LEVEL_WINDOW_MINUTES, type QueueStats } from '../console-contract/floor.ts';

/**
 * Tasks and routing (TaskRouter's model): everything that waits for a person is a task with a
 * channel, priority, language and skills; agents have a presence, a capacity per channel and
 * skills. Routing state lives in Redis and every change to it is one Lua script (lua.ts), so any
 * number of API processes can route at once; the durable record of each task is in Mongo.
 *
 * Changes are announced to in-process listeners (`onChange`): the console server turns them into
 * socket events for the agents concerned and the supervisors' floor.
 */

type StaffPrincipal = Extract<Principal, { type: 'staff' }>;

export type RevokeReason = 'expired' | 'withdrawn' | 'cancelled' | 'abandoned' | 'reassigned' | 'transferred';

export type TaskChange =
  | {
      kind: 'task';
      task: Task;
      /** Who held the task before this change (offer or assignment), if anyone. */
      previousHolder: string | null;
      previousState: TaskState | null;
      /** Set when the previous holder lost the task. */
      revoked?: RevokeReason;
    }
  | { kind: 'agent'; agent: AgentState };

export interface StaffDirectoryEntry {
  displayName: string;
  role: StaffRole;
}

export interface TaskServiceDeps {
  mongo: Connection;
  redis: Redis;
  redisPrefix: string;
  clock: Clock;
  logger: Logger;
  audit: { record(entry: AuditRecordInput): Promise<unknown> };
  /** Name and role of a staff user (the staff service), for agents' rows and assignees. */
  staffDirectory(staffUserId: string): Promise<StaffDirectoryEntry | undefined>;
  settings: {
    /** How long an offer stays open (TASK_OFFER_TIMEOUT_SECONDS). */
    offerTimeoutMs: number;
    /** How long an agent who declined or let an offer lapse is skipped for that task. @defaultValue the offer timeout */
    declineCooldownMs?: number;
  };
}

/** Capacity a new agent starts with, by role; supervisors may change it per agent. */
export function defaultCapacity(role: StaffRole): Capacity {
  if (role === 'fraud_analyst') return { chat: 0, call: 0, callback: 0, message: 0, fraud_review: 1 };
  if (role === 'csr' || role === 'supervisor') return { chat: 3, call: 1, callback: 1, message: 2, fraud_review: 0 };
  return { chat: 0, call: 0, callback: 0, message: 0, fraud_review: 0 };
}

/** Handle time assumed before any task of a channel has been measured. */
const DEFAULT_HANDLE_MS: Record<TaskChannel, number> = { chat: 240_000, call: 300_000, callback: 300_000, message: 180_000, fraud_review: 300_000 };
const SCORE_BAND = 1e13;
const ROUTE_SCAN = 200;
const MAX_OFFERS_PER_ROUTE = 100;
const DUPLICATE_KEY = 11000;
const isDuplicateKey = (error: unknown) => (error as { code?: number })?.code === DUPLICATE_KEY || /duplicate key/i.test(String((error as Error)?.message));
const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

export function createTaskService(deps: TaskServiceDeps) {
  const { redis, clock, logger, audit } = deps;
  const Tasks = taskModel(deps.mongo);
  const Profiles = agentProfileModel(deps.mongo);
  const B = `${deps.redisPrefix}:tasks{r}:`;
  const offerTimeoutMs = deps.settings.offerTimeoutMs;
  const cooldownMs = deps.settings.declineCooldownMs ?? offerTimeoutMs;
  const thresholdMs = SERVICE_LEVEL_THRESHOLD_SECONDS * 1000;
  const listeners = new Set<(change: TaskChange) => void | Promise<void>>();
  const names = new Map<string, StaffDirectoryEntry>();

  let indexes: Promise<void> | undefined;
  const ready = () => {
    indexes ??= Promise.all([Tasks.init(), Profiles.init()]).then(() => undefined);
    indexes.catch(() => (indexes = undefined));
    return indexes;
  };

  const run = (lua: LuaScript, args: (string | number)[]) => runScript(redis, lua, [], [B, ...args]);
  const now = () => clock().getTime();

  /** Listeners run before the change's caller gets its answer: an accepted chat is the agent's chat when accept returns. */
  async function emit(change: TaskChange): Promise<void> {
    const results = await Promise.allSettled([...listeners].map(async (listener) => listener(change)));
    for (const result of results) if (result.status === 'rejected') logger.error({ err: result.reason }, 'task change listener failed');
  }

  async function directory(staffUserId: string): Promise<StaffDirectoryEntry> {
    const known = names.get(staffUserId);
    if (known) return known;
    const found = (await deps.staffDirectory(staffUserId).catch(() => undefined)) ?? { displayName: 'Agent', role: 'csr' as StaffRole };
    names.set(staffUserId, found);
    return found;
  }

  // --- reading routing state ---

  function taskFromHash(id: string, h: Record<string, string>, assigneeName: string | null): Task {
    const wrap = h.wrap ? (JSON.parse(h.wrap) as Task['wrapUp']) : null;
    return {
      id,
      channel: h.ch as TaskChannel,
      priority: Number(h.pri),
      language: h.lang!,
      requiredSkills: h.skills ? h.skills.split(',') : [],
      createdAt: iso(h.created!),
      state: h.state as TaskState,
      stateSince: iso(h.since!),
      offer: h.offerTo ? { staffUserId: h.offerTo, expiresAt: iso(h.offerExp!) } : null,
      assignee: h.assignee ? { staffUserId: h.assignee, displayName: assigneeName ?? 'Agent' } : null,
      assignedAt: h.assignedAt ? iso(h.assignedAt) : null,
      wrapUp: wrap,
      summary: JSON.parse(h.summary!) as TaskSummary,
    };
  }

  function taskFromDoc(doc: TaskDoc, assigneeName: string | null): Task {
    return {
      id: doc._id,
      channel: doc.channel,
      priority: doc.priority,
      language: doc.language,
      requiredSkills: doc.requiredSkills,
      createdAt: doc.createdAt.toISOString(),
      state: doc.state,
      stateSince: doc.stateSince.toISOString(),
      offer: null,
      assignee: doc.assignee ? { staffUserId: doc.assignee, displayName: assigneeName ?? 'Agent' } : null,
      assignedAt: doc.assignedAt ? doc.assignedAt.toISOString() : null,
      wrapUp: doc.wrapUp ? { disposition: doc.wrapUp.disposition as never, notes: doc.wrapUp.notes, at: doc.wrapUp.at.toISOString(), seconds: doc.wrapUp.seconds } : null,
      summary: doc.summary,
    };
  }

  async function readHash(id: string): Promise<Record<string, string> | undefined> {
    const h = await redis.hgetall(`${B}t:${id}`);
    return h.state ? h : undefined;
  }

  async function readTask(id: string): Promise<Task | undefined> {
    const h = await readHash(id);
    if (h) return taskFromHash(id, h, h.assignee ? (await directory(h.assignee)).displayName : null);
    const doc = await Tasks.findById(id).lean<TaskDoc>();
    return doc ? taskFromDoc(doc, doc.assignee ? (await directory(doc.assignee)).displayName : null) : undefined;
  }

  async function requireTask(id: string): Promise<Task> {
    const task = await readTask(id);
    if (!task) throw new NotFoundError('task', 'tasks.not_found', 'No such task.');
    return task;
  }

  const zeroCapacity = (): Capacity => ({ chat: 0, call: 0, callback: 0, message: 0, fraud_review: 0 });

  async function readAgent(staffUserId: string): Promise<AgentState | undefined> {
    const [h, ids] = await Promise.all([redis.hgetall(`${B}a:${staffUserId}`), redis.smembers(`${B}a:${staffUserId}:tasks`)]);
    if (!h.presence) return undefined;
    const capacity = zeroCapacity();
    const load = zeroCapacity();
    for (const channel of CHANNEL_FIELDS) {
      capacity[channel] = Number(h[`cap_${channel}`] ?? 0);
      load[channel] = Math.max(0, Number(h[`load_${channel}`] ?? 0));
    }
    const held = await Promise.all(
      ids.map(async (taskId) => {
        const [state, since, ch] = await redis.hmget(`${B}t:${taskId}`, 'state', 'since', 'ch');
        return state && !isFinalTaskState(state as TaskState) ? { taskId, channel: ch as TaskChannel, state: state as TaskState, since: iso(since!) } : undefined;
      }),
    );
    return {
      staffUserId,
      displayName: h.name ?? 'Agent',
      role: h.role ?? 'csr',
      languages: h.langs ? h.langs.split(',') : ['en'],
      skills: h.skills ? h.skills.split(',') : [],
      capacity,
      presence: h.presence as Presence,
      presenceSince: iso(h.psince ?? now()),
      idleSince: h.idle ? iso(h.idle) : null,
      load,
      tasks: held.filter((t): t is NonNullable<typeof t> => t !== undefined).sort((a, b) => a.since.localeCompare(b.since)),
    };
  }

  async function announceAgents(ids: Iterable<string>) {
    for (const id of new Set(ids)) {
      if (!id) continue;
      const agent = await readAgent(id);
      if (agent) await emit({ kind: 'agent', agent });
    }
  }

  /** Writes the task's routing state to its Mongo record; an older revision never overwrites a newer one. */
  async function persist(id: string, extra: Partial<TaskDoc> = {}, note?: { staffUserId: string | null; note?: string }): Promise<void> {
    const h = await readHash(id);
    if (!h) return;
    const rev = Number(h.rev ?? 1);
    const set: Partial<TaskDoc> = {
      state: h.state as TaskState,
      stateSince: new Date(Number(h.since)),
      assignee: h.assignee ?? null,
      assignedAt: h.assignedAt ? new Date(Number(h.assignedAt)) : null,
      answeredAt: h.answered ? new Date(Number(h.answered)) : null,
      offers: Number(h.offers ?? 0),
      language: h.lang!,
      rev,
      ...extra,
    };
    const entry = { at: new Date(Number(h.since)), state: h.state as TaskState, staffUserId: note?.staffUserId ?? h.assignee ?? h.offerTo ?? null, ...(note?.note ? { note: note.note } : {}) };
    await Tasks.updateOne({ _id: id, rev: { $lt: rev } }, { $set: set, $push: { history: entry } }).catch((error: Error) => logger.warn({ err: error.message, taskId: id }, 'task record not updated; routing state in Redis is ahead'));
  }

  /** Reads, persists and announces a task after a routing change. */
  async function changed(id: string, previous: { state: TaskState | null; holder: string | null }, options: { revoked?: RevokeReason; persistExtra?: Partial<TaskDoc>; note?: { staffUserId: string | null; note?: string } } = {}): Promise<Task> {
    const task = await requireTask(id);
    await persist(id, options.persistExtra, options.note);
    await emit({ kind: 'task', task, previousHolder: previous.holder, previousState: previous.state, ...(options.revoked ? { revoked: options.revoked } : {}) });
    await announceAgents([previous.holder ?? '', task.offer?.staffUserId ?? '', task.assignee?.staffUserId ?? '']);
    return task;
  }

  // --- routing loop ---

  const kicks = new Set<TaskChannel>();
  let kickScheduled = false;
  /** Routes the channel soon (coalesced: many changes in one turn of the event loop route once). */
  function kick(channel: TaskChannel) {
    kicks.add(channel);
    if (kickScheduled) return;
    kickScheduled = true;
    setImmediate(() => {
      kickScheduled = false;
      const channels = [...kicks];
      kicks.clear();
      for (const ch of channels) void service.route(ch).catch((error: Error) => logger.warn({ err: error.message, channel: ch }, 'routing failed; the next tick retries'));
    });
  }

  let timer: NodeJS.Timeout | undefined;
  let ticking = false;

  const service = {
    onChange(listener: (change: TaskChange) => void | Promise<void>): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Puts still-open tasks from Mongo back in the queue if Redis lost them, then routes every `intervalMs` (offer expiry too). */
    async start(options: { intervalMs?: number } = {}): Promise<void> {
      await ready();
      await service.restore();
      timer ??= setInterval(() => void service.tick(), options.intervalMs ?? 1000);
      timer.unref();
    },

    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
    },

    /** Expires lapsed offers and routes every channel; safe to run in any number of processes at once. */
    async tick(): Promise<void> {
      if (ticking) return;
      ticking = true;
      try {
        await service.expireOffers();
        for (const channel of TASK_CHANNELS) await service.route(channel);
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'task routing tick failed');
      } finally {
        ticking = false;
      }
    },

    async restore(): Promise<number> {
      const open = await Tasks.find({ state: { $in: ['pending', 'offered', 'assigned', 'wrapping_up'] } }).lean<TaskDoc[]>();
      let restored = 0;
      for (const doc of open) {
        if (await redis.exists(`${B}t:${doc._id}`)) continue;
        const score = (9 - doc.priority) * SCORE_BAND + doc.createdAt.getTime();
        restored += Number(await run(CREATE_TASK, [doc._id, doc.channel, doc.priority, doc.language, doc.requiredSkills.join(','), doc.createdAt.getTime(), score, JSON.stringify(doc.summary)]));
      }
      if (restored) logger.warn({ restored }, 'tasks: open tasks missing from Redis were put back in the queue');
      return restored;
    },

    // --- tasks ---

    /** Creates the task for a source (idempotent by source key) and routes its channel. */
    async create(input: NewTask): Promise<Task> {
      const data = parseOrThrow(NewTask, input);
      await ready();
      const sourceKey = data.sourceKey ?? `${data.source.kind}:${data.source.ref}`;
      const at = clock();
      const doc: TaskDoc = {
        _id: randomUUID(),
        source: data.source,
        sourceKey,
        channel: data.channel,
        priority: data.priority,
        language: data.language,
        requiredSkills: data.requiredSkills,
        summary: data.summary,
        createdAt: at,
        state: 'pending',
        stateSince: at,
        assignee: null,
        assignedAt: null,
        answeredAt: null,
        offers: 0,
        completedAt: null,
        wrapUp: null,
        handleSeconds: null,
        rev: 1,
        history: [{ at, state: 'pending', staffUserId: null }],
      };
      let stored = doc;
      try {
        await Tasks.create(doc);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        stored = (await Tasks.findOne({ sourceKey }).lean<TaskDoc>())!;
        if (isFinalTaskState(stored.state)) return taskFromDoc(stored, null);
      }
      const score = (9 - stored.priority) * SCORE_BAND + stored.createdAt.getTime();
      const created = Number(await run(CREATE_TASK, [stored._id, stored.channel, stored.priority, stored.language, stored.requiredSkills.join(','), stored.createdAt.getTime(), score, JSON.stringify(stored.summary)]));
      const task = await requireTask(stored._id);
      if (created) {
        await emit({ kind: 'task', task, previousHolder: null, previousState: null });
        kick(task.channel);
      }
      return task;
    },

    get: requireTask,
    find: readTask,

    /** Offers waiting tasks of a channel to agents; returns the offers made. */
    async route(channel: TaskChannel): Promise<{ taskId: string; staffUserId: string }[]> {
      const result = (await run(ROUTE, [channel, now(), offerTimeoutMs, MAX_OFFERS_PER_ROUTE, ROUTE_SCAN])) as string[];
      const offers: { taskId: string; staffUserId: string }[] = [];
      for (let i = 0; i < result.length; i += 2) offers.push({ taskId: result[i]!, staffUserId: result[i + 1]! });
      for (const offer of offers) await changed(offer.taskId, { state: 'pending', holder: null });
      return offers;
    },

    async expireOffers(): Promise<{ taskId: string; staffUserId: string }[]> {
      const result = (await run(EXPIRE_OFFERS, [now(), cooldownMs, 500])) as string[];
      const expired: { taskId: string; staffUserId: string }[] = [];
      for (let i = 0; i < result.length; i += 2) expired.push({ taskId: result[i]!, staffUserId: result[i + 1]! });
      for (const { taskId, staffUserId } of expired) {
        const task = await changed(taskId, { state: 'offered', holder: staffUserId }, { revoked: 'expired', note: { staffUserId, note: 'offer expired' } });
        kick(task.channel);
      }
      return expired;
    },

    async accept(actor: StaffPrincipal, taskId: string): Promise<Task> {
      const [status, state] = (await run(ACCEPT, [taskId, actor.staffUserId, now(), thresholdMs])) as string[];
      if (status !== 'ok') {
        if (state === 'missing') throw new NotFoundError('task', 'tasks.not_found', 'No such task.');
        if (state === 'expired') throw new ConflictError('tasks.offer_expired', 'The offer expired; the task went to the next agent.');
        throw new ConflictError('tasks.not_offered', 'This task is not offered to you.');
      }
      const task = await changed(taskId, { state: 'offered', holder: actor.staffUserId });
      await audit.record({ actor, action: 'task.accept', resource: { type: 'task', id: taskId }, outcome: 'success', details: { channel: task.channel } });
      return task;
    },

    async decline(actor: StaffPrincipal, taskId: string): Promise<void> {
      const [status, state] = (await run(DECLINE, [taskId, actor.staffUserId, now(), cooldownMs])) as string[];
      if (status !== 'ok') {
        if (state === 'missing') throw new NotFoundError('task', 'tasks.not_found', 'No such task.');
        throw new ConflictError('tasks.not_offered', 'This task is not offered to you.');
      }
      const task = await changed(taskId, { state: 'offered', holder: actor.staffUserId }, { revoked: 'withdrawn', note: { staffUserId: actor.staffUserId, note: 'declined' } });
      kick(task.channel);
    },

    /** Handling is over: the task goes to wrap-up. `actor` null: the system (e.g. the visitor ended the chat). */
    async end(actor: StaffPrincipal | null, taskId: string): Promise<Task> {
      const [status, state] = (await run(END_HANDLING, [taskId, actor?.staffUserId ?? '', now()])) as string[];
      if (status !== 'ok') {
        if (state === 'missing') throw new NotFoundError('task', 'tasks.not_found', 'No such task.');
        throw new ConflictError('tasks.not_assigned', 'This task is not assigned to you.');
      }
      const before = await requireTask(taskId);
      if (state === 'already') return before;
      return changed(taskId, { state: 'assigned', holder: before.assignee?.staffUserId ?? null });
    },

    async wrapUp(actor: StaffPrincipal, taskId: string, input: unknown): Promise<Task> {
      const data = parseOrThrow(WrapUp, input);
      const notes = maskCardNumbers(data.notes);
      const [status, stateOrHandle, wrapMs] = (await run(WRAP_UP, [taskId, actor.staffUserId, now()])) as (string | number)[];
      if (status !== 'ok') {
        if (stateOrHandle === 'missing') throw new NotFoundError('task', 'tasks.not_found', 'No such task.');
        throw new ConflictError('tasks.not_assigned', 'This task is not assigned to you.');
      }
      const at = clock();
      const wrapUp = { disposition: data.disposition, notes, at: at.toISOString(), seconds: Math.round(Number(wrapMs) / 1000) };
      await redis.hset(`${B}t:${taskId}`, 'wrap', JSON.stringify(wrapUp));
      const task = await changed(
        taskId,
        { state: 'wrapping_up', holder: actor.staffUserId },
        { persistExtra: { completedAt: at, handleSeconds: Math.round(Number(stateOrHandle) / 1000), wrapUp: { ...wrapUp, at, by: actor.staffUserId } } },
      );
      kick(task.channel);
      return task;
    },

    /** Ends a task nobody will handle further: cancelled, or abandoned by the person waiting. No-op if already final. */
    async cancel(taskId: string, final: 'cancelled' | 'abandoned', note?: string): Promise<Task | undefined> {
      const [status, previous, holder] = (await run(CANCEL, [taskId, final, now()])) as string[];
      if (status !== 'ok') return readTask(taskId);
      const task = await changed(taskId, { state: previous as TaskState, holder: holder || null }, { revoked: final, note: { staffUserId: null, ...(note ? { note } : {}) }, persistExtra: { completedAt: clock() } });
      if (holder) kick(task.channel);
      return task;
    },

    /** Every open task of a source (e.g. the call that hung up): cancelled or abandoned. */
    async cancelBySource(ref: string, final: 'cancelled' | 'abandoned', note?: string): Promise<Task[]> {
      await ready();
      const open = await Tasks.find({ 'source.ref': ref }, { _id: 1, state: 1 }).lean<Pick<TaskDoc, '_id' | 'state'>[]>();
      const ended: Task[] = [];
      for (const doc of open) {
        if (isFinalTaskState(doc.state)) continue;
        const task = await service.cancel(doc._id, final, note);
        if (task) ended.push(task);
      }
      return ended;
    },

    async openTasksOfSource(ref: string): Promise<Task[]> {
      await ready();
      const docs = await Tasks.find({ 'source.ref': ref }, { _id: 1, state: 1 }).lean<Pick<TaskDoc, '_id' | 'state'>[]>();
      const tasks = await Promise.all(docs.filter((d) => !isFinalTaskState(d.state)).map((d) => readTask(d._id)));
      return tasks.filter((t): t is Task => t !== undefined && !isFinalTaskState(t.state));
    },

    /** Back to the queue (an agent's transfer to a queue); keeps its age. `from` must hold it, when given. */
    async requeue(taskId: string, options: { from?: string; language?: string } = {}): Promise<Task> {
      const [status, holderOrState] = (await run(REQUEUE, [taskId, options.from ?? '', now(), options.language ?? '', cooldownMs])) as string[];
      if (status !== 'ok') {
        if (holderOrState === 'missing') throw new NotFoundError('task', 'tasks.not_found', 'No such task.');
        throw new ConflictError('tasks.not_assigned', 'This task is not assigned to you.');
      }
      const task = await changed(taskId, { state: 'assigned', holder: holderOrState || null }, { revoked: 'transferred' });
      kick(task.channel);
      return task;
    },

    /** Straight to one agent (a supervisor's reassign or an agent's transfer). */
    async assign(taskId: string, target: string, options: { from?: string; reason: 'reassigned' | 'transferred' }): Promise<Task> {
      await service.ensureAgent(target);
      const before = await requireTask(taskId);
      const [status, detail] = (await run(ASSIGN, [taskId, target, now(), options.from ?? '', thresholdMs])) as string[];
      if (status !== 'ok') {
        if (detail === 'missing') throw new NotFoundError('task', 'tasks.not_found', 'No such task.');
        if (detail === 'agent_offline') throw new BusinessRuleError('tasks.agent_offline', 'That agent is offline.');
        if (detail === 'agent_full') throw new BusinessRuleError('tasks.agent_full', 'That agent has no free slot for this kind of task.');
        if (detail === 'same_agent') throw new BusinessRuleError('tasks.same_agent', 'The task is already with that agent.');
        if (detail === 'not_holder') throw new ConflictError('tasks.not_assigned', 'This task is not assigned to you.');
        throw new ConflictError('tasks.not_assignable', `A task that is ${detail} cannot be assigned.`);
      }
      return changed(taskId, { state: before.state, holder: detail || null }, { revoked: options.reason });
    },

    async reassign(actor: StaffPrincipal, taskId: string, target: string): Promise<Task> {
      const task = await service.assign(taskId, target, { reason: 'reassigned' });
      await audit.record({ actor, action: 'task.reassign', resource: { type: 'task', id: taskId }, outcome: 'success', details: { to: target, channel: task.channel } });
      return task;
    },

    /** Tasks the agent holds (offers, assigned, wrapping up), oldest first. */
    async tasksOf(staffUserId: string): Promise<Task[]> {
      const ids = await redis.smembers(`${B}a:${staffUserId}:tasks`);
      const tasks = await Promise.all(ids.map((id) => readTask(id)));
      return tasks.filter((t): t is Task => t !== undefined && !isFinalTaskState(t.state)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },

    /** Open tasks (from routing), or recent ones in the given states. */
    async list(filter: { states?: TaskState[] | undefined; channel?: TaskChannel | undefined } = {}): Promise<Task[]> {
      const states = filter.states?.length ? filter.states : (['pending', 'offered', 'assigned', 'wrapping_up'] as TaskState[]);
      const live = await redis.zrange(`${B}live`, 0, 999);
      const open = (await Promise.all(live.map((id) => readTask(id)))).filter((t): t is Task => t !== undefined);
      let tasks = open.filter((t) => states.includes(t.state) && (!filter.channel || t.channel === filter.channel));
      const finals = states.filter((s) => isFinalTaskState(s));
      if (finals.length) {
        await ready();
        const docs = await Tasks.find({ state: { $in: finals }, ...(filter.channel ? { channel: filter.channel } : {}) }).sort({ stateSince: -1 }).limit(100).lean<TaskDoc[]>();
        tasks = tasks.concat(await Promise.all(docs.map(async (d) => taskFromDoc(d, d.assignee ? (await directory(d.assignee)).displayName : null))));
      }
      return tasks;
    },

    // --- agents ---

    /** Makes sure routing knows the agent (profile from Mongo, or the role's defaults). */
    async ensureAgent(staffUserId: string): Promise<AgentState> {
      await ready();
      const who = await directory(staffUserId);
      const profile = (await Profiles.findById(staffUserId).lean<AgentProfileDoc>()) ?? { _id: staffUserId, languages: ['en'], skills: [], capacity: defaultCapacity(who.role), updatedAt: clock(), updatedBy: 'system:defaults' };
      const key = `${B}a:${staffUserId}`;
      const fields: Record<string, string | number> = { name: who.displayName, role: who.role, langs: profile.languages.join(','), skills: profile.skills.join(',') };
      for (const channel of CHANNEL_FIELDS) fields[`cap_${channel}`] = profile.capacity[channel] ?? 0;
      await redis.multi().hset(key, fields).hsetnx(key, 'presence', 'offline').hsetnx(key, 'psince', now()).sadd(`${B}agents`, staffUserId).exec();
      return (await readAgent(staffUserId))!;
    },

    async agent(staffUserId: string): Promise<AgentState | undefined> {
      return readAgent(staffUserId);
    },

    async agents(): Promise<AgentState[]> {
      const ids = await redis.smembers(`${B}agents`);
      const agents = await Promise.all(ids.map((id) => readAgent(id)));
      return agents.filter((a): a is AgentState => a !== undefined).sort((a, b) => a.displayName.localeCompare(b.displayName));
    },

    /** Sets an agent's presence (the agent, or a supervisor as `actor`); leaving `available` withdraws open offers. */
    async setPresence(staffUserId: string, presence: Presence, actor?: StaffPrincipal): Promise<AgentState> {
      if ((await redis.exists(`${B}a:${staffUserId}`)) === 0) await service.ensureAgent(staffUserId);
      const result = (await run(SET_PRESENCE, [staffUserId, presence, now()])) as string[];
      if (result[0] === 'error') throw new NotFoundError('agent', 'tasks.agent_not_found', 'No such agent.');
      for (const taskId of result.slice(1)) {
        const task = await changed(taskId, { state: 'offered', holder: staffUserId }, { revoked: 'withdrawn' });
        kick(task.channel);
      }
      const agent = (await readAgent(staffUserId))!;
      if (result[0] === 'ok') {
        await emit({ kind: 'agent', agent });
        if (presence === 'available') for (const channel of TASK_CHANNELS) if (agent.capacity[channel] > 0) kick(channel);
      }
      if (actor && actor.staffUserId !== staffUserId) {
        await audit.record({ actor, action: 'agent.presence_set', resource: { type: 'staff_user', id: staffUserId }, outcome: 'success', details: { presence } });
      }
      return agent;
    },

    async configureAgent(actor: StaffPrincipal, input: unknown): Promise<AgentState> {
      const request = parseOrThrow(AgentConfigureRequest, input);
      const current = await service.ensureAgent(request.staffUserId);
      const profile: AgentProfileDoc = {
        _id: request.staffUserId,
        languages: request.languages ?? current.languages,
        skills: request.skills ?? current.skills,
        capacity: { ...current.capacity, ...request.capacity },
        updatedAt: clock(),
        updatedBy: `staff:${actor.username}`,
      };
      await Profiles.replaceOne({ _id: profile._id }, profile, { upsert: true });
      const agent = await service.ensureAgent(request.staffUserId);
      await emit({ kind: 'agent', agent });
      for (const channel of TASK_CHANNELS) kick(channel);
      await audit.record({ actor, action: 'agent.configure', resource: { type: 'staff_user', id: request.staffUserId }, outcome: 'success', details: { languages: profile.languages, capacity: profile.capacity } });
      return agent;
    },

    // --- figures ---

    /** Place in line and expected wait of a waiting task (or of a newcomer, without `taskId`), from measured handle times. */
    async estimate(channel: TaskChannel, taskId?: string): Promise<QueueEstimate> {
      let position: number;
      if (taskId) {
        const rank = await redis.zrank(`${B}pending:${channel}`, taskId);
        position = rank === null ? 1 : rank + 1;
      } else {
        position = (await redis.zcard(`${B}pending:${channel}`)) + 1;
      }
      const capacity = await capacityOf(channel);
      return { position, expectedWaitSeconds: expectedWaitSeconds({ position, slots: capacity.slots, free: capacity.free, averageHandleMs: capacity.averageHandleMs }) };
    },

    /** Whether anyone could take a task of the channel now (signed in, not on break, with capacity). */
    async canServe(channel: TaskChannel, language = 'en'): Promise<boolean> {
      const ready = await redis.zrange(`${B}ready`, 0, -1);
      for (const id of ready) {
        const [cap, langs] = await redis.hmget(`${B}a:${id}`, `cap_${channel}`, 'langs');
        if (Number(cap ?? 0) > 0 && (langs ?? '').split(',').includes(language)) return true;
      }
      return false;
    },

    async queueStats(channel: TaskChannel): Promise<QueueStats> {
      const at = now();
      const since = at - SERVICE_LEVEL_WINDOW_MINUTES * 60_000;
      const st = `${B}st:${channel}`;
      const [pending, answered, fast, abandoned, capacity] = await Promise.all([
        redis.zrange(`${B}pending:${channel}`, 0, -1, 'WITHSCORES'),
        redis.zcount(`${st}:answered`, since, '+inf'),
        redis.zcount(`${st}:fast`, since, '+inf'),
        redis.zcount(`${st}:abandoned`, since, '+inf'),
        capacityOf(channel),
      ]);
      // Old entries are of no use to the window; trimming here keeps the sets small.
      void redis.multi().zremrangebyscore(`${st}:answered`, '-inf', since).zremrangebyscore(`${st}:fast`, '-inf', since).zremrangebyscore(`${st}:abandoned`, '-inf', since).exec().catch(() => undefined);
      let oldest = at;
      for (let i = 1; i < pending.length; i += 2) oldest = Math.min(oldest, Number(pending[i]) % SCORE_BAND);
      const waiting = pending.length / 2;
      const denominator = answered + abandoned;
      return {
        channel,
        waiting,
        longestWaitSeconds: waiting ? Math.max(0, Math.round((at - oldest) / 1000)) : 0,
        serviceLevel: denominator ? fast / denominator : null,
        answered,
        answeredWithinThreshold: fast,
        abandoned,
        abandonmentRate: denominator ? abandoned / denominator : null,
        averageHandleSeconds: capacity.measured ? Math.round(capacity.averageHandleMs / 1000) : null,
        expectedWaitSeconds: expectedWaitSeconds({ position: waiting + 1, slots: capacity.slots, free: capacity.free, averageHandleMs: capacity.averageHandleMs }),
        agentsAvailable: capacity.agents,
      };
    },

    async allQueueStats(): Promise<QueueStats[]> {
      return Promise.all(TASK_CHANNELS.map((channel) => service.queueStats(channel)));
    },

    /** For tests: routing's own view of an agent's held task ids and loads. */
    async routingSnapshot(staffUserId: string) {
      return { tasks: await redis.smembers(`${B}a:${staffUserId}:tasks`), hash: await redis.hgetall(`${B}a:${staffUserId}`) };
    },
  };

  // Capacity figures of a channel change with every assignment; a second's staleness is fine for estimates.
  const capacityCache = new Map<TaskChannel, { at: number; value: { slots: number; free: number; agents: number; averageHandleMs: number; measured: boolean } }>();
  async function capacityOf(channel: TaskChannel) {
    const cached = capacityCache.get(channel);
    if (cached && Date.now() - cached.at < 1000) return cached.value;
    const ids = await redis.zrange(`${B}ready`, 0, -1);
    let slots = 0;
    let free = 0;
    let agents = 0;
    const rows = await Promise.all(ids.map((id) => redis.hmget(`${B}a:${id}`, `cap_${channel}`, `load_${channel}`)));
    for (const [cap, load] of rows) {
      const c = Number(cap ?? 0);
      if (c <= 0) continue;
      agents += 1;
      slots += c;
      free += Math.max(0, c - Number(load ?? 0));
    }
    const handles = (await redis.lrange(`${B}st:${channel}:handle`, 0, 49)).map(Number);
    const value = { slots, free, agents, averageHandleMs: averageMs(handles) ?? DEFAULT_HANDLE_MS[channel], measured: handles.length > 0 };
    capacityCache.set(channel, { at: Date.now(), value });
    return value;
  }

  return service;
}

export type TaskService = ReturnType<typeof createTaskService>;

/** For socket handlers: the task must be held by this agent. */
export function assertHolder(task: Task, staffUserId: string): void {
  if (task.assignee?.staffUserId !== staffUserId && task.offer?.staffUserId !== staffUserId) throw new ForbiddenError('tasks.not_yours', 'This task is not yours.');
}
