import { expect } from 'chai';
import { attachConsoleSockets, type ConsoleSockets } from '../../agent-console/server.ts';
import { AgentServerEvents } from '../../api/console-contract/events.ts';
import type { ChatMessage, StaffSessionView, VisitorSessionView } from '../../api/console-contract/chat.ts';
import type { Task } from '../../api/console-contract/tasks.ts';
import type { ReceivedMail } from '../../platform/embedded/index.ts';
import { createEmailWorker } from '../../workers/email/worker.ts';
import { api } from '../support/http.ts';
import { capturedLogLines, createTestContext, type TestContext } from '../support/infra.ts';
import { waitFor } from '../support/order-flow.ts';
import { createStaffUser, loginStaff, movableClock } from '../support/staff-sessions.ts';
import { acceptChat, clientId, openSocket, signedIn, startChat, type ConsoleAgent, type Recorded } from './console-support.ts';

/** Wednesday 10:00 in New York: inside the IVR's (and chat's) opening hours, whatever today is. */
const OPEN = Date.parse('2026-12-02T15:00:00Z');
/** Sunday: closed all day. */
const CLOSED = Date.parse('2026-12-06T15:00:00Z');

describe('live chat over the console sockets', function () {
  this.timeout(120_000);
  let ctx: TestContext;
  let sockets: ConsoleSockets;
  let emailWorker: ReturnType<typeof createEmailWorker>;
  const opened: Recorded[] = [];
  const agents: ConsoleAgent[] = [];

  before(async () => {
    ctx = await createTestContext({ clock: movableClock(OPEN).clock });
    sockets = attachConsoleSockets(ctx.server, ctx.services, { recheckMs: 60_000, routing: { intervalMs: 100 }, refreshMs: 300, visitorGraceMs: 300, agentGraceMs: 60_000 });
    emailWorker = createEmailWorker({ services: ctx.services, connection: ctx.runtime.bullConnection, busyRecheckMs: 50 });
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) {
      await ctx.services.tasks.setPresence(agent.user.id, 'offline').catch(() => undefined);
      agent.desk.close();
    }
    for (const socket of opened.splice(0)) socket.close();
    for (const task of await ctx.services.tasks.list()) await ctx.services.tasks.cancel(task.id, 'cancelled');
  });
  after(async () => {
    expect(sockets?.emitter.invalidCount(), 'every event the server sent matched the contract').to.equal(0);
    await emailWorker?.close();
    await sockets?.close();
    await ctx?.close();
  });

  async function agent(role: 'csr' | 'supervisor' = 'csr', namespace: '/agent' | '/supervisor' = '/agent', available = true) {
    const signed = await signedIn(ctx, role, namespace, { available });
    agents.push(signed);
    return signed;
  }
  async function shopper(form: Parameters<typeof startChat>[1] = {}) {
    const started = await startChat(ctx, form);
    opened.push(started.socket);
    return started;
  }

  it('routes a chat to the longest-idle agent; messages, typing, receipts and the agent\'s first name flow both ways', async () => {
    const first = await agent();
    const second = await agent();
    const ada = await shopper({ name: 'Ada Lovelace' });
    const { taskId, opened: chat } = await acceptChat(first, ada);
    expect(second.desk.all('task:offered'), 'the agent who became available later got nothing').to.have.length(0);
    expect(chat.session).to.deep.include({ sessionId: ada.sessionId, state: 'active' });
    expect((chat.session as StaffSessionView).visitor).to.deep.include({ name: 'Ada Lovelace', email: ada.email });

    const joined = await ada.socket.next<VisitorSessionView>('chat:session', (s) => s.state === 'active');
    expect(joined.agentFirstName).to.equal('Test');

    const sent = await ada.socket.ask<{ seq: number; duplicate: boolean }>('chat:send', { clientId: clientId(), body: 'Where is my order?' });
    expect(sent.duplicate).to.equal(false);
    const atAgent = await first.desk.next<ChatMessage>('chat:message', (m) => m.seq === sent.seq);
    expect(atAgent).to.deep.include({ body: 'Where is my order?', visibility: 'all' });
    expect(atAgent.author).to.deep.equal({ kind: 'visitor', name: 'Ada' });

    await ada.socket.ask('chat:typing', { typing: true });
    expect((await first.desk.next<{ typing: boolean; author: { name: string } }>('chat:typing')).author.name).to.equal('Ada');
    await first.desk.ask('chat:typing', { sessionId: ada.sessionId, typing: true });
    expect((await ada.socket.next<{ author: { kind: string; name: string } }>('chat:typing')).author).to.deep.equal({ kind: 'agent', name: 'Test' });

    const reply = await first.desk.ask<{ seq: number }>('chat:send', { sessionId: ada.sessionId, clientId: clientId(), body: 'Let me look that up.' });
    const atShopper = await ada.socket.next<ChatMessage>('chat:message', (m) => m.seq === reply.seq);
    expect(atShopper.author).to.deep.equal({ kind: 'agent', name: 'Test' });

    await ada.socket.ask('chat:receipt', { deliveredSeq: reply.seq, readSeq: reply.seq });
    const receipt = await first.desk.next<{ receipts: { visitor: { readSeq: number } } }>('chat:receipt', (r) => r.receipts.visitor.readSeq === reply.seq);
    expect(receipt.receipts.visitor.readSeq).to.equal(reply.seq);
    await first.desk.ask('chat:receipt', { sessionId: ada.sessionId, readSeq: sent.seq });
    expect((await ada.socket.next<{ receipts: { agent: { readSeq: number } } }>('chat:receipt', (r) => r.receipts.agent.readSeq === sent.seq)).receipts.agent.readSeq).to.equal(sent.seq);

    // An internal note reaches the agent, never the visitor.
    const note = await first.desk.ask<{ seq: number }>('chat:send', { sessionId: ada.sessionId, clientId: clientId(), body: 'Customer sounds upset', visibility: 'internal' });
    await first.desk.next<ChatMessage>('chat:message', (m) => m.seq === note.seq);
    const state = await ada.socket.ask<{ messages: ChatMessage[] }>('chat:state');
    expect(state.messages.map((m) => m.body)).not.to.include('Customer sounds upset');

    // The agent ends the chat and wraps up.
    const ending = await first.desk.ask<Task>('task:end', { taskId });
    expect(ending.state).to.equal('wrapping_up');
    expect((await ada.socket.next<VisitorSessionView>('chat:session', (s) => s.state === 'ended')).endedBy).to.equal('agent');
    const done = await first.desk.ask<Task>('task:wrap-up', { taskId, disposition: 'order_status_given', notes: 'Told them it ships Friday.' });
    expect(done.state).to.equal('completed');
    expect(ada.socket.events.map((e) => e.event).filter((e) => !['chat:message', 'chat:session', 'chat:typing', 'chat:receipt', 'chat:queue'].includes(e))).to.deep.equal([]);
  });

  it('masks card numbers before a message is stored, broadcast or logged', async () => {
    const csr = await agent();
    const bob = await shopper({ name: 'Bob Stone' });
    await acceptChat(csr, bob);
    const card = '4242-4242-4242-4242';
    const sent = await bob.socket.ask<{ seq: number; body: string }>('chat:send', { clientId: clientId(), body: `my card is ${card} exp 12/30` });
    expect(sent.body).to.equal('my card is •••• •••• •••• 4242 exp 12/30');
    const atAgent = await csr.desk.next<ChatMessage>('chat:message', (m) => m.seq === sent.seq);
    expect(atAgent.body).to.equal(sent.body);
    const note = await csr.desk.ask<{ body: string }>('chat:send', { sessionId: bob.sessionId, clientId: clientId(), body: 'He typed 4111 1111 1111 1111 too', visibility: 'internal' });
    expect(note.body).to.equal('He typed •••• •••• •••• 1111 too');
    // An order number (8 digits) and a phone number are not card numbers.
    const plain = await bob.socket.ask<{ body: string }>('chat:send', { clientId: clientId(), body: 'Order 12345678, call me at 202-555-0100' });
    expect(plain.body).to.equal('Order 12345678, call me at 202-555-0100');

    const stored = await ctx.services.core.mongo.collection('chat_messages').find({ sessionId: bob.sessionId }).toArray();
    expect(stored.map((m) => m.body)).to.include(sent.body);
    const everything = JSON.stringify(stored) + JSON.stringify(csr.desk.events) + JSON.stringify(bob.socket.events) + capturedLogLines.join('');
    for (const digits of [card, '4242424242424242', '4242 4242 4242 4242', '4111 1111 1111 1111', '4111111111111111']) expect(everything).not.to.contain(digits);
  });

  it('after a reconnect each side gets every message exactly once: client ids, acks and replay from the last seq', async () => {
    const csr = await agent();
    const cy = await shopper({ name: 'Cy Young' });
    await acceptChat(csr, cy);
    const seen = new Map<number, ChatMessage>();
    const merge = (messages: ChatMessage[]) => {
      for (const m of messages) if (!seen.has(m.seq)) seen.set(m.seq, m);
    };
    merge((await cy.socket.ask<{ messages: ChatMessage[] }>('chat:state')).messages);
    const firstId = clientId();
    const first = await cy.socket.ask<{ seq: number }>('chat:send', { clientId: firstId, body: 'one' });
    await cy.socket.next<ChatMessage>('chat:message', (m) => m.seq === first.seq);
    merge(cy.socket.all<ChatMessage>('chat:message'));
    const lastSeen = Math.max(...seen.keys());

    cy.socket.close();
    const whileAway: number[] = [];
    for (const body of ['two', 'three', 'four']) whileAway.push((await csr.desk.ask<{ seq: number }>('chat:send', { sessionId: cy.sessionId, clientId: clientId(), body })).seq);

    const back = await openSocket(ctx.baseUrl, '/chat', { token: cy.token });
    opened.push(back);
    // The first send's ack was "lost": the widget sends it again with the same client id.
    const resent = await back.ask<{ seq: number; duplicate: boolean }>('chat:send', { clientId: firstId, body: 'one' });
    expect(resent).to.deep.include({ seq: first.seq, duplicate: true });
    const replay = await back.ask<{ messages: ChatMessage[] }>('chat:resume', { afterSeq: lastSeen });
    expect(replay.messages.map((m) => m.body)).to.deep.equal(['two', 'three', 'four']);
    merge(replay.messages);
    merge(back.all<ChatMessage>('chat:message'));

    const stored = (await ctx.services.core.mongo.collection('chat_messages').find({ sessionId: cy.sessionId, visibility: 'all' }).sort({ seq: 1 }).toArray()).map((m) => m.seq as number);
    expect([...seen.keys()].sort((a, b) => a - b), 'the visitor has every message once').to.deep.equal(stored);
    expect(stored.filter((s) => s === first.seq), 'the resent message is stored once').to.have.length(1);
    expect(back.all<ChatMessage>('chat:message').filter((m) => whileAway.includes(m.seq)), 'nothing sent while away arrives again live').to.have.length(0);

    // The agent's side: reconnect and resume the chat from the last seq it had.
    const agentLast = Math.max(...csr.desk.all<ChatMessage>('chat:message').map((m) => m.seq));
    csr.desk.close();
    const sentAfter = await back.ask<{ seq: number }>('chat:send', { clientId: clientId(), body: 'are you there?' });
    const desk = await openSocket(ctx.baseUrl, '/agent', { token: csr.token });
    agents.push({ ...csr, desk });
    const resumed = await desk.ask<{ sessions: { messages: ChatMessage[] }[] }>('chat:resume', { sessions: [{ sessionId: cy.sessionId, afterSeq: agentLast }] });
    expect(resumed.sessions[0]!.messages.map((m) => m.seq)).to.deep.equal([sentAfter.seq]);
  });

  it('emails the transcript on request, with card numbers masked and no internal notes', async () => {
    const csr = await agent();
    const dee = await shopper({ name: 'Dee Dee' });
    await acceptChat(csr, dee);
    await dee.socket.ask('chat:send', { clientId: clientId(), body: 'My card 4000 0000 0000 0002 was declined' });
    await csr.desk.ask('chat:send', { sessionId: dee.sessionId, clientId: clientId(), body: 'Sorry to hear that: try another card in the store.' });
    await csr.desk.ask('chat:send', { sessionId: dee.sessionId, clientId: clientId(), body: 'NOTE: repeat declines', visibility: 'internal' });
    await dee.socket.ask('chat:end');
    expect(await dee.socket.ask('chat:transcript')).to.deep.equal({ queued: true });
    const mail: ReceivedMail = await ctx.services.core.mailbox!.waitFor((m) => m.envelopeTo.includes(dee.email), 20_000);
    expect(mail.subject).to.match(/Your chat with/);
    expect(mail.text).to.contain('Sorry to hear that');
    expect(mail.text).to.contain('•••• •••• •••• 0002');
    expect(mail.raw).not.to.contain('4000 0000 0000 0002');
    expect(mail.text).not.to.contain('repeat declines');
  });

  it('takes one anonymous survey after the chat, stored with no link to the person or the chat', async () => {
    const csr = await agent();
    const eve = await shopper({ name: 'Eve Adams' });
    await acceptChat(csr, eve);
    const early = await eve.socket.askRaw('chat:survey', { rating: 5 });
    expect(early).to.deep.include({ ok: false });
    await eve.socket.ask('chat:end');
    const comment = `Quick and kind ${clientId().slice(0, 6)}`;
    expect(await eve.socket.ask('chat:survey', { rating: 4, comment })).to.deep.equal({ recorded: true });
    const again = await eve.socket.askRaw('chat:survey', { rating: 1 });
    expect(again.ok ? 'accepted' : again.error.code).to.equal('chat.survey_answered');
    const surveys = await ctx.services.core.mongo.collection('chat_surveys').find({ comment }).toArray();
    expect(surveys).to.have.length(1);
    expect(Object.keys(surveys[0]!).sort()).to.deep.equal(['_id', 'comment', 'day', 'rating']);
    expect(JSON.stringify(surveys[0])).not.to.contain(eve.sessionId);
    expect(JSON.stringify(surveys[0])).not.to.contain(eve.email);
  });

  it('offers leaving a message when nobody can take a chat', async () => {
    const response = await api(ctx.baseUrl, 'POST', '/api/chat/sessions', { body: { name: 'Nobody Home', email: 'nobody@example.com', topic: 'other' } });
    expect(response.body).to.deep.include({ mode: 'leave_message', reason: 'nobody_available' });
  });

  it('lets the agent transfer to another agent or back to the queue, use canned responses, look up the customer\'s orders and send a storefront link', async () => {
    const admin = await loginStaff(ctx, await createStaffUser(ctx, 'admin'), OPEN);
    const shortcut = `greet-${clientId().slice(0, 6).toLowerCase()}`;
    const canned = await api(ctx.baseUrl, 'POST', '/api/staff/chat/canned', { token: admin, body: { title: 'Greeting', shortcut, body: 'Hello {{customer.firstName}}, I am {{agent.firstName}} from {{store.name}}.' } });
    expect(canned.status).to.equal(201);
    const first = await agent();
    const fay = await shopper({ name: 'Fay Wray' });
    const { taskId } = await acceptChat(first, fay);

    const list = await first.desk.ask<{ id: string; shortcut: string }[]>('canned:list');
    expect(list.map((c) => c.shortcut)).to.include(shortcut);
    expect(await first.desk.ask('canned:render', { sessionId: fay.sessionId, cannedId: canned.body.id })).to.deep.equal({ body: 'Hello Fay, I am Test from Mint Store.' });

    const lookup = await first.desk.ask<{ customer: unknown; orders: unknown[] }>('customer:orders', { sessionId: fay.sessionId });
    expect(lookup).to.deep.equal({ customer: null, orders: [] });
    const audited = await ctx.services.audit.query({ action: 'order.list', actor: first.user.username, page: 1, pageSize: 10 });
    expect(audited.total).to.equal(1);
    expect((await ctx.services.audit.query({ action: 'customer.search', actor: first.user.username, page: 1, pageSize: 10 })).total).to.equal(1);

    const link = await first.desk.ask<{ seq: number }>('chat:send-link', { sessionId: fay.sessionId, clientId: clientId(), target: { kind: 'cart' } });
    expect((await fay.socket.next<ChatMessage>('chat:message', (m) => m.seq === link.seq)).link!.url).to.match(/\/#\/cart$/);

    const second = await agent();
    await first.desk.ask('chat:transfer', { sessionId: fay.sessionId, to: { kind: 'agent', staffUserId: second.user.id } });
    expect((await first.desk.next<{ taskId: string; reason: string }>('task:revoked', (r) => r.taskId === taskId)).reason).to.equal('transferred');
    await second.desk.next<{ task: Task }>('task:updated', (u) => u.task.id === taskId && u.task.state === 'assigned');
    const taken = await fay.socket.next<ChatMessage>('chat:message', (m) => m.author.kind === 'system' && /taken over/.test(m.body));
    expect(taken.body).to.equal('Test has taken over the chat.');
    const after = await first.desk.askRaw('chat:send', { sessionId: fay.sessionId, clientId: clientId(), body: 'still here?' });
    expect(after.ok ? 'sent' : after.error.code, 'the first agent no longer writes to the chat').to.equal('chat.not_your_chat');
    await second.desk.ask('chat:open', { sessionId: fay.sessionId });
    await second.desk.ask('chat:send', { sessionId: fay.sessionId, clientId: clientId(), body: 'I can help from here.' });

    // Back to the queue: the task keeps its age and goes to the next agent (the first, now idle longest... or the second is excluded).
    await second.desk.ask('chat:transfer', { sessionId: fay.sessionId, to: { kind: 'queue' } });
    expect((await second.desk.next<{ taskId: string; reason: string }>('task:revoked', (r) => r.taskId === taskId && r.reason === 'transferred')).reason).to.equal('transferred');
    const reoffer = await first.desk.next<{ task: Task }>('task:offered', (o) => o.task.id === taskId);
    expect(reoffer.task.createdAt).to.equal((await ctx.services.tasks.get(taskId)).createdAt);
  });

  it('lets a supervisor monitor silently, whisper to the agent only, barge in, and answer an invitation', async () => {
    const csr = await agent();
    const other = await agent();
    const sup = await agent('supervisor', '/supervisor');
    const gus = await shopper({ name: 'Gus Grissom' });
    const { taskId } = await acceptChat(csr, gus);
    await csr.desk.ask('chat:invite-supervisor', { sessionId: gus.sessionId, note: 'angry customer' });
    const invitation = await sup.desk.next<{ sessionId: string; note: string }>('chat:invitation');
    expect(invitation).to.deep.include({ sessionId: gus.sessionId, note: 'angry customer' });

    const monitored = await sup.desk.ask<{ messages: ChatMessage[] }>('chat:monitor', { sessionId: gus.sessionId });
    expect(monitored.messages.length).to.be.greaterThan(0);
    const said = await gus.socket.ask<{ seq: number }>('chat:send', { clientId: clientId(), body: 'This is taking forever' });
    await sup.desk.next<ChatMessage>('chat:message', (m) => m.seq === said.seq);

    const whisper = await sup.desk.ask<{ seq: number }>('chat:whisper', { sessionId: gus.sessionId, clientId: clientId(), body: 'Offer free shipping' });
    const atAgent = await csr.desk.next<ChatMessage>('chat:message', (m) => m.seq === whisper.seq);
    expect(atAgent).to.deep.include({ visibility: 'whisper', whisperTo: csr.user.id, body: 'Offer free shipping' });
    // The visitor and the other agent never see it, live or in a replay.
    const later = await csr.desk.ask<{ seq: number }>('chat:send', { sessionId: gus.sessionId, clientId: clientId(), body: 'Shipping is on us.' });
    await gus.socket.next<ChatMessage>('chat:message', (m) => m.seq === later.seq);
    expect(gus.socket.all<ChatMessage>('chat:message').map((m) => m.body)).not.to.include('Offer free shipping');
    expect((await gus.socket.ask<{ messages: ChatMessage[] }>('chat:state')).messages.map((m) => m.body)).not.to.include('Offer free shipping');
    expect(JSON.stringify(other.desk.events)).not.to.contain('Offer free shipping');

    // Monitoring was silent: the visitor was told nothing until the barge-in.
    expect(gus.socket.all<ChatMessage>('chat:message').filter((m) => /supervisor/.test(m.body))).to.have.length(0);
    const barged = await sup.desk.ask<StaffSessionView>('chat:barge', { sessionId: gus.sessionId });
    expect(barged.supervisors.map((s) => s.staffUserId)).to.include(sup.user.id);
    await gus.socket.next<ChatMessage>('chat:message', (m) => m.author.kind === 'system' && /supervisor, joined/.test(m.body));
    const open = await sup.desk.ask<{ seq: number }>('chat:send', { sessionId: gus.sessionId, clientId: clientId(), body: 'I am the supervisor; we will sort this out.' });
    expect((await gus.socket.next<ChatMessage>('chat:message', (m) => m.seq === open.seq)).author).to.deep.equal({ kind: 'supervisor', name: 'Test' });

    // The floor: reassign the chat and set the agent's presence.
    const floor = await sup.desk.ask<{ agents: { staffUserId: string; tasks: { taskId: string }[] }[]; chats: { sessionId: string }[] }>('floor:subscribe');
    expect(floor.agents.find((a) => a.staffUserId === csr.user.id)!.tasks.map((t) => t.taskId)).to.include(taskId);
    expect(floor.chats.map((c) => c.sessionId)).to.include(gus.sessionId);
    await sup.desk.ask('task:reassign', { taskId, toStaffUserId: other.user.id });
    expect((await csr.desk.next<{ taskId: string; reason: string }>('task:revoked', (r) => r.taskId === taskId)).reason).to.equal('reassigned');
    await sup.desk.next<{ agent: { staffUserId: string; tasks: { taskId: string }[] } }>('floor:agent', (u) => u.agent.staffUserId === other.user.id && u.agent.tasks.some((t) => t.taskId === taskId));
    await sup.desk.ask('agent:set-presence', { staffUserId: csr.user.id, presence: 'break' });
    expect((await csr.desk.next<{ agent: { presence: string } }>('agent:updated', (u) => u.agent.presence === 'break')).agent.presence).to.equal('break');
    expect((await ctx.services.audit.query({ action: 'chat.monitor', actor: sup.user.username, page: 1, pageSize: 5 })).total).to.equal(1);
  });

  it('never sends a CSR supervisor-only data: no floor, no invitations, no other agents\' whispers, no /supervisor namespace', async () => {
    const csr = await agent();
    const colleague = await agent();
    const sup = await agent('supervisor', '/supervisor');
    await sup.desk.ask('floor:subscribe');
    const hal = await shopper({ name: 'Hal Jordan' });
    await acceptChat(csr, hal);
    await csr.desk.ask('chat:invite-supervisor', { sessionId: hal.sessionId });
    await sup.desk.ask('chat:monitor', { sessionId: hal.sessionId });
    const coaching = await sup.desk.ask<{ seq: number }>('chat:whisper', { sessionId: hal.sessionId, clientId: clientId(), body: 'secret coaching' });
    await csr.desk.next<ChatMessage>('chat:message', (m) => m.seq === coaching.seq);
    await sup.desk.next('floor:task');
    await sup.desk.next('chat:invitation');
    await sup.desk.ask('agent:set-presence', { staffUserId: colleague.user.id, presence: 'break' });
    await sup.desk.next('floor:agent', (u: { agent: { staffUserId: string; presence: string } }) => u.agent.staffUserId === colleague.user.id && u.agent.presence === 'break');

    // The CSR asks for supervisor things on its own namespace: there are no such events there.
    const floorAttempt = await csr.desk.socket.timeout(1000).emitWithAck('floor:subscribe', {}).then(() => 'answered', () => 'no handler');
    expect(floorAttempt).to.equal('no handler');
    const refused = await openSocket(ctx.baseUrl, '/supervisor', { token: csr.token }).then(() => 'connected', (error: Error & { data?: { code: string } }) => error.data?.code);
    expect(refused).to.equal('staff.forbidden');
    const allowed = new Set(Object.keys(AgentServerEvents));
    for (const desk of [csr.desk, colleague.desk]) {
      expect(desk.events.map((e) => e.event).filter((e) => !allowed.has(e))).to.deep.equal([]);
      expect(desk.events.filter((e) => /^floor:|invitation/.test(e.event))).to.deep.equal([]);
    }
    // The whisper was for the agent of the chat; the colleague's socket never carried it.
    expect(JSON.stringify(colleague.desk.events)).not.to.contain('secret coaching');
    expect(colleague.desk.events.filter((e) => e.event === 'agent:updated').map((e) => (e.payload as { agent: { staffUserId: string } }).agent.staffUserId)).to.deep.equal(
      colleague.desk.events.filter((e) => e.event === 'agent:updated').map(() => colleague.user.id),
    );
  });

  it('abandons a waiting chat whose visitor left and did not come back', async () => {
    const busy = await agent();
    await ctx.services.tasks.configureAgent({ type: 'staff', staffUserId: busy.user.id, username: 'sup', role: 'supervisor', sessionId: 's', ip: undefined }, { staffUserId: busy.user.id, capacity: { chat: 1 } });
    const ivy = await shopper({ name: 'Ivy Ann' });
    await acceptChat(busy, ivy);
    const jo = await shopper({ name: 'Jo March' });
    const queue = await jo.socket.next<{ position: number; expectedWaitSeconds: number }>('chat:queue');
    expect(queue.position).to.equal(1);
    const [task] = await ctx.services.tasks.openTasksOfSource(jo.sessionId);
    jo.socket.close();
    await waitFor('the waiting chat to be abandoned', async () => ((await ctx.services.tasks.get(task!.id)).state === 'abandoned' ? true : undefined), 10_000);
    expect((await ctx.services.tasks.queueStats('chat')).abandoned).to.be.greaterThan(0);
  });
});

describe('live chat outside opening hours', function () {
  this.timeout(60_000);
  let ctx: TestContext;
  let sockets: ConsoleSockets;
  before(async () => {
    ctx = await createTestContext({ clock: movableClock(CLOSED).clock });
    sockets = attachConsoleSockets(ctx.server, ctx.services, { routing: { intervalMs: 100 } });
  });
  after(async () => {
    await sockets?.close();
    await ctx?.close();
  });

  it('lets the visitor leave a message, which becomes a task an agent opens', async () => {
    const availability = await api(ctx.baseUrl, 'GET', '/api/chat/availability');
    expect(availability.body).to.deep.include({ open: false, agentsAvailable: false });
    expect(availability.body.nextOpening).to.deep.equal({ date: '2026-12-07', open: '08:30', timeZone: 'America/New_York' });
    const start = await api(ctx.baseUrl, 'POST', '/api/chat/sessions', { body: { name: 'Kim Late', email: 'kim@example.com', topic: 'subscription' } });
    expect(start.body).to.deep.include({ mode: 'leave_message', reason: 'closed' });

    const left = await api(ctx.baseUrl, 'POST', '/api/chat/messages', { body: { name: 'Kim Late', email: 'kim@example.com', topic: 'subscription', body: 'Please call me about my subscription. Card 4242 4242 4242 4242.' } });
    expect(left.status).to.equal(201);
    const csr = await signedIn(ctx, 'csr', '/agent');
    try {
      const offer = await csr.desk.next<{ task: Task }>('task:offered', (o) => o.task.channel === 'message');
      expect(offer.task.summary).to.deep.include({ channel: 'message', messageId: left.body.messageId, visitorFirstName: 'Kim', topic: 'subscription' });
      await csr.desk.ask('task:accept', { taskId: offer.task.id });
      const message = await csr.desk.ask<{ body: string; email: string }>('message:open', { taskId: offer.task.id });
      expect(message).to.deep.include({ email: 'kim@example.com', body: 'Please call me about my subscription. Card •••• •••• •••• 4242.' });
      expect((await ctx.services.audit.query({ action: 'chat.left_message_read', actor: csr.user.username, page: 1, pageSize: 5 })).total).to.equal(1);
    } finally {
      csr.desk.close();
    }
  });
});
