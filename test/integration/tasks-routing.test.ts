import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createTaskService, type TaskService } from '../../api/tasks/service.ts';
import type { Task, TaskChannel } from '../../api/tasks/schema.ts';
import type { Principal } from '../../api/http/principal.ts';
import { deleteKeys } from '../../platform/redis-keys.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { waitFor } from '../support/order-flow.ts';
import { createStaffUser, movableClock } from '../support/staff-sessions.ts';

type StaffPrincipal = Extract<Principal, { type: 'staff' }>;

/**
 * Routing against real Redis and FerretDB, with the service's injected clock: offers expire when
 * the clock says so, never after a wall-clock wait. Each test makes its own agents and tasks; an
 * agent left available by one test is set offline at its end so it takes nothing from the next.
 */
describe('tasks: routing, offers, wrap-up and restarts', function () {
  this.timeout(120_000);
  const time = movableClock(Date.parse('2026-12-02T15:00:00Z'));
  let ctx: TestContext;
  let tasks: TaskService;
  const made: string[] = [];

  before(async () => {
    ctx = await createTestContext({ clock: time.clock, env: { TASK_OFFER_TIMEOUT_SECONDS: '20' } });
    tasks = ctx.services.tasks;
  });
  afterEach(async () => {
    for (const id of made.splice(0)) await tasks.setPresence(id, 'offline').catch(() => undefined);
    for (const task of await tasks.list()) await tasks.cancel(task.id, 'cancelled');
  });
  after(async () => ctx?.close());

  async function agent(role: 'csr' | 'fraud_analyst' | 'supervisor' = 'csr', setup: { languages?: string[]; capacity?: Partial<Record<TaskChannel, number>> } = {}): Promise<StaffPrincipal> {
    const user = await createStaffUser(ctx, role);
    made.push(user.id);
    const principal: StaffPrincipal = { type: 'staff', staffUserId: user.id, username: user.username, role, sessionId: 'test', ip: undefined };
    await tasks.ensureAgent(user.id);
    if (setup.languages || setup.capacity) {
      await tasks.configureAgent({ ...principal, role: 'supervisor' }, { staffUserId: user.id, ...(setup.languages ? { languages: setup.languages } : {}), ...(setup.capacity ? { capacity: setup.capacity } : {}) });
    }
    return principal;
  }

  async function available(...agents: StaffPrincipal[]) {
    for (const a of agents) {
      await tasks.setPresence(a.staffUserId, 'available');
      time.advance(1000);
    }
  }

  const chatTask = (language = 'en', priority = 5) =>
    tasks.create({ source: { kind: 'chat', ref: randomUUID() }, channel: 'chat', priority, language, summary: { channel: 'chat', sessionId: randomUUID(), visitorFirstName: 'Ada', topic: 'order' } });

  const offeredTo = (taskId: string, who: StaffPrincipal) =>
    waitFor(`task ${taskId} offered to ${who.username}`, async () => {
      const task = await tasks.get(taskId);
      return task.state === 'offered' && task.offer?.staffUserId === who.staffUserId ? task : undefined;
    }, 10_000);

  async function settle(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await tasks.tick();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await tasks.tick();
  }

  it('offers the oldest task to the available agent who has been idle longest', async () => {
    const [first, second, third] = [await agent(), await agent(), await agent()];
    await available(first!, second!, third!);
    const task = await chatTask();
    const offered = await offeredTo(task.id, first!);
    expect(offered.offer!.expiresAt).to.equal(new Date(time.now() + 20_000).toISOString());
    await tasks.accept(first!, task.id);

    // The next task skips the busy agent: an agent with nothing to do goes before one who is chatting.
    const next = await chatTask();
    await offeredTo(next.id, second!);
    await tasks.accept(second!, next.id);
    const third3 = await chatTask();
    await offeredTo(third3.id, third!);
  });

  it('serves higher priority first, then the oldest, and only agents with the language', async () => {
    const english = await agent('csr', { capacity: { chat: 1 } });
    const spanish = await agent('csr', { languages: ['es'], capacity: { chat: 1 } });
    const older = await chatTask();
    time.advance(1000);
    const urgent = await chatTask('en', 8);
    time.advance(1000);
    const inSpanish = await chatTask('es');
    await settle();
    expect((await tasks.get(older.id)).state).to.equal('pending');

    await available(english, spanish);
    await offeredTo(urgent.id, english);
    await offeredTo(inSpanish.id, spanish);
    await settle();
    expect((await tasks.get(older.id)).state, 'the older but less urgent task waits for a free slot').to.equal('pending');
    expect((await tasks.estimate('chat', older.id)).position).to.equal(1);
  });

  it('gives an offer that is not accepted in time to the next agent', async () => {
    const [slow, quick] = [await agent(), await agent()];
    await available(slow!, quick!);
    const task = await chatTask();
    await offeredTo(task.id, slow!);
    time.advance(20_001);
    await settle();
    await offeredTo(task.id, quick!);
    const lapsed = await tasks.accept(slow!, task.id).then(() => 'accepted', (error: { code: string }) => error.code);
    expect(lapsed).to.equal('tasks.not_offered');
    const accepted = await tasks.accept(quick!, task.id);
    expect(accepted).to.deep.include({ state: 'assigned' });
    expect(accepted.assignee!.staffUserId).to.equal(quick!.staffUserId);
    const record = await ctx.services.core.mongo.collection('tasks').findOne({ _id: task.id as never });
    expect(record!.history.map((h: { state: string }) => h.state)).to.include.members(['pending', 'offered', 'assigned']);
  });

  it('refuses to accept an offer once its time is up, even before the sweep ran', async () => {
    const late = await agent();
    await available(late);
    const task = await chatTask();
    await offeredTo(task.id, late);
    time.advance(20_001);
    const outcome = await tasks.accept(late, task.id).then(() => 'accepted', (error: { code: string }) => error.code);
    expect(outcome).to.equal('tasks.offer_expired');
  });

  it('never starves a declined task: it keeps its place and comes back when the decliners may have it again', async () => {
    const [a, b] = [await agent('csr', { capacity: { chat: 1 } }), await agent('csr', { capacity: { chat: 1 } })];
    await available(a!, b!);
    const task = await chatTask();
    await offeredTo(task.id, a!);
    await tasks.decline(a!, task.id);
    await offeredTo(task.id, b!);
    await tasks.decline(b!, task.id);
    // Both declined: a newer task goes to them, the declined one stays first in line.
    const newer = await chatTask();
    await offeredTo(newer.id, a!);
    expect((await tasks.get(task.id)).state).to.equal('pending');
    expect((await tasks.estimate('chat', task.id)).position).to.equal(1);
    await tasks.decline(a!, newer.id);
    time.advance(20_001);
    await settle();
    // After the cool-down the older task is offered before the newer one.
    const again = await tasks.get(task.id);
    expect(again.state).to.equal('offered');
    await tasks.accept({ ...(again.offer!.staffUserId === a!.staffUserId ? a! : b!) }, task.id);
    expect((await tasks.get(task.id)).state).to.equal('assigned');
  });

  it('withdraws open offers when the agent goes on break, without penalty', async () => {
    const [a, b] = [await agent(), await agent()];
    await available(a!, b!);
    const task = await chatTask();
    await offeredTo(task.id, a!);
    await tasks.setPresence(a!.staffUserId, 'break');
    await offeredTo(task.id, b!);
    expect((await tasks.agent(a!.staffUserId))!.load.chat).to.equal(0);
  });

  it('records wrap-up with its disposition, notes (card numbers masked) and wrap-up time, and frees the slot', async () => {
    const a = await agent('csr', { capacity: { chat: 1 } });
    await available(a);
    const task = await chatTask();
    await offeredTo(task.id, a);
    await tasks.accept(a, task.id);
    time.advance(90_000);
    await tasks.end(a, task.id);
    time.advance(15_000);
    const done = await tasks.wrapUp(a, task.id, { disposition: 'resolved', notes: 'Customer read out 4111 1111 1111 1111 by mistake' });
    expect(done.state).to.equal('completed');
    expect(done.wrapUp).to.deep.include({ disposition: 'resolved', seconds: 15 });
    expect(done.wrapUp!.notes).to.equal('Customer read out •••• •••• •••• 1111 by mistake');
    const record = await ctx.services.core.mongo.collection('tasks').findOne({ _id: task.id as never });
    expect(record).to.deep.include({ state: 'completed', handleSeconds: 105 });
    expect(record!.wrapUp).to.deep.include({ disposition: 'resolved', seconds: 15, by: a.staffUserId });
    expect(JSON.stringify(record)).not.to.contain('4111 1111');
    const agentState = await tasks.agent(a.staffUserId);
    expect(agentState!.load.chat).to.equal(0);
    expect(agentState!.idleSince).to.equal(new Date(time.now()).toISOString());
    // Expected waits now come from the measured handle time.
    const stats = await tasks.queueStats('chat');
    expect(stats.averageHandleSeconds).to.be.a('number');
  });

  it('reports service level and abandonment over the window', async () => {
    const a = await agent('csr', { capacity: { chat: 2 } });
    await available(a);
    const fast = await chatTask();
    await offeredTo(fast.id, a);
    time.advance(5_000);
    await tasks.accept(a, fast.id);
    await tasks.setPresence(a.staffUserId, 'break');
    const lost = await chatTask();
    time.advance(40_000);
    await tasks.cancel(lost.id, 'abandoned');
    const stats = await tasks.queueStats('chat');
    expect(stats.answered).to.be.greaterThan(0);
    expect(stats.answeredWithinThreshold).to.be.at.most(stats.answered);
    expect(stats.abandoned).to.be.greaterThan(0);
    expect(stats.serviceLevel).to.equal(stats.answeredWithinThreshold / (stats.answered + stats.abandoned));
  });

  it('never gives one task to two agents when several routers run at once', async function () {
    // A second task service on its own Redis connection: another process's router.
    const otherRedis = ctx.services.core.redis.duplicate();
    const other = createTaskService({
      mongo: ctx.services.core.mongo,
      redis: otherRedis,
      redisPrefix: ctx.redisPrefix,
      clock: time.clock,
      logger: ctx.services.core.logger,
      audit: ctx.services.audit,
      staffDirectory: (id) => ctx.services.staff.getUser(id).then((u) => ({ displayName: u.displayName, role: u.role })),
      settings: { offerTimeoutMs: 20_000 },
    });
    try {
      const agents: StaffPrincipal[] = [];
      for (let i = 0; i < 8; i += 1) agents.push(await agent('csr', { capacity: { chat: 2 } }));
      await available(...agents);
      const created: Task[] = [];
      for (let i = 0; i < 40; i += 1) created.push(await (i % 2 ? other : tasks).create({ source: { kind: 'chat', ref: randomUUID() }, channel: 'chat', summary: { channel: 'chat', sessionId: randomUUID(), visitorFirstName: 'V', topic: 'other' } }));
      // Both routers, many times, at once (creating the tasks already started some).
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? other : tasks).route('chat')));
      const offered = (await Promise.all(created.map((t) => tasks.get(t.id)))).filter((t) => t.state === 'offered');
      expect(offered.length, 'as many offers as free slots').to.equal(16);
      for (const a of agents) {
        const snapshot = await tasks.routingSnapshot(a.staffUserId);
        expect(snapshot.tasks, `${a.username} holds exactly the tasks offered to them`).to.have.members(offered.filter((t) => t.offer!.staffUserId === a.staffUserId).map((t) => t.id));
      }
      // Every offer is accepted through both services at once, and also by a wrong agent: one accept wins each.
      const accepts = await Promise.all(
        offered.flatMap((task) => {
          const holder = agents.find((a) => a.staffUserId === task.offer!.staffUserId)!;
          const stranger = agents.find((a) => a.staffUserId !== holder.staffUserId)!;
          return [tasks.accept(holder, task.id), other.accept(holder, task.id), other.accept(stranger, task.id)].map((p) => p.then((t) => t.assignee!.staffUserId, () => null));
        }),
      );
      expect(accepts.filter(Boolean).length, 'one successful accept per offer').to.equal(offered.length);
      const assigned = (await Promise.all(created.map((t) => tasks.get(t.id)))).filter((t) => t.state === 'assigned');
      expect(assigned.length).to.equal(16);
      for (const a of agents) {
        const snapshot = await tasks.routingSnapshot(a.staffUserId);
        expect(snapshot.tasks.length, `${a.username} holds no more than capacity`).to.equal(2);
        expect(Number(snapshot.hash.load_chat)).to.equal(2);
        const mine = assigned.filter((t) => t.assignee!.staffUserId === a.staffUserId).map((t) => t.id);
        expect(mine).to.have.members(snapshot.tasks);
      }
    } finally {
      otherRedis.disconnect();
    }
  });

  it('keeps tasks across a restart of the process, and puts them back if Redis lost them', async () => {
    const task = await chatTask('fr');
    // Nothing of routing lives in a process: a new service on new connections is what a restarted process is.
    const redis = ctx.services.core.redis.duplicate();
    try {
      const again = createTaskService({
        mongo: ctx.services.core.mongo,
        redis,
        redisPrefix: ctx.redisPrefix,
        clock: time.clock,
        logger: ctx.services.core.logger,
        audit: ctx.services.audit,
        staffDirectory: (id: string) => ctx.services.staff.getUser(id).then((u) => ({ displayName: u.displayName, role: u.role })),
        settings: { offerTimeoutMs: 20_000 },
      });
      expect((await again.get(task.id)).state).to.equal('pending');
      await deleteKeys(ctx.services.core.redis, `${ctx.redisPrefix}:tasks{r}:t:${task.id}`);
      await ctx.services.core.redis.zrem(`${ctx.redisPrefix}:tasks{r}:pending:chat`, task.id);
      expect(await again.restore()).to.equal(1);
      const restored = await again.get(task.id);
      expect(restored).to.deep.include({ state: 'pending', language: 'fr', createdAt: task.createdAt });
      expect((await again.estimate('chat', task.id)).position).to.equal(1);
    } finally {
      redis.disconnect();
    }
  });
});
