import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket as TcpSocket } from 'node:net';
import { io as connect, type Socket } from 'socket.io-client';
import type { Ack } from '../../api/console-contract/events.ts';
import type { ChatMessage } from '../../api/console-contract/chat.ts';
import type { Task } from '../../api/console-contract/tasks.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { waitFor } from '../support/order-flow.ts';
import { createStaffUser, loginStaff, movableClock } from '../support/staff-sessions.ts';
import { openSocket } from './console-support.ts';

const OPEN = Date.parse('2026-12-02T15:00:00Z');

/** A console API process of its own (test/integration/console-node.ts) on the test's database and Redis prefix. */
async function startNode(ctx: TestContext): Promise<{ child: ChildProcess; port: number; stderr: string[] }> {
  const { infrastructure } = ctx;
  const spec = {
    mongoUri: infrastructure.mongoUri,
    dbName: ctx.dbName,
    redisUrl: infrastructure.redisUrl,
    redisPrefix: ctx.redisPrefix,
    s3: infrastructure.s3,
    bucket: 'unused-bucket',
    smtpUrl: infrastructure.smtpUrl,
    secrets: ctx.services.core.secrets,
    clockMs: OPEN,
  };
  const child = spawn(process.execPath, ['test/integration/console-node.ts'], { env: { ...process.env, CONSOLE_NODE: JSON.stringify(spec) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`console node exited (${code}) before listening: ${stderr.join('').slice(-2000)}`)));
  });
  return { child, port, stderr };
}

/** The load balancer: new connections go to the first backend still alive. */
function startBalancer(backends: { port: number; alive: () => boolean }[]): Promise<{ server: Server; port: number; connections: Set<TcpSocket> }> {
  const connections = new Set<TcpSocket>();
  const server = createServer((client) => {
    const target = backends.find((b) => b.alive());
    if (!target) return client.destroy();
    const upstream = tcpConnect(target.port, '127.0.0.1');
    connections.add(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      connections.delete(client);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, connections })));
}

/**
 * What the widget does, reduced to the protocol: keep every message by seq (one copy each), send
 * with client ids and resend whatever was not acknowledged, and after every reconnect ask for what
 * came after the last seq seen.
 */
function chatClient(socket: Socket, resume: (afterSeq: number) => Promise<ChatMessage[]>, send: (clientId: string, body: string) => Promise<Ack<{ seq: number }>>) {
  const messages = new Map<number, ChatMessage>();
  const pending = new Map<string, string>();
  const acked = new Map<string, number>();
  let lastSeq = 0;
  let reconnects = 0;
  let lastError = '';
  const keep = (m: ChatMessage) => {
    if (!messages.has(m.seq)) messages.set(m.seq, m);
    lastSeq = Math.max(lastSeq, m.seq);
  };
  const inFlight = new Set<string>();
  async function attempt(clientId: string) {
    const body = pending.get(clientId);
    if (body === undefined || inFlight.has(clientId)) return;
    inFlight.add(clientId);
    const ack = await send(clientId, body).catch((error: Error) => {
      lastError = error.message;
      return undefined;
    });
    inFlight.delete(clientId);
    if (ack && !ack.ok) lastError = `${ack.error.code}: ${ack.error.message}`;
    if (ack?.ok) {
      pending.delete(clientId);
      acked.set(clientId, ack.data.seq);
    }
  }
  // An unacknowledged message is sent again (same client id) until it is acknowledged.
  const retry = setInterval(() => {
    if (socket.connected) for (const clientId of pending.keys()) void attempt(clientId);
  }, 1000);
  socket.on('disconnect', (reason) => {
    if (reason === 'io client disconnect') clearInterval(retry);
  });
  socket.on('chat:message', keep);
  socket.io.on('reconnect', () => {
    reconnects += 1;
  });
  socket.on('connect', () => {
    void (async () => {
      for (const m of await resume(lastSeq).catch(() => [])) keep(m);
      for (const clientId of [...pending.keys()]) await attempt(clientId);
    })();
  });
  return {
    messages,
    pending,
    acked,
    reconnects: () => reconnects,
    lastError: () => lastError,
    send(body: string) {
      const clientId = randomUUID().replace(/-/g, '');
      pending.set(clientId, body);
      void attempt(clientId);
      return clientId;
    },
  };
}

describe('console: two API processes, the shopper on one and the agent on the other', function () {
  this.timeout(240_000);
  let ctx: TestContext;
  const nodes: { child: ChildProcess; port: number; stderr: string[] }[] = [];
  let balancer: Awaited<ReturnType<typeof startBalancer>> | undefined;
  const sockets: Socket[] = [];

  before(async () => {
    ctx = await createTestContext({ clock: movableClock(OPEN).clock });
    nodes.push(...(await Promise.all([startNode(ctx), startNode(ctx)])));
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    balancer?.server.close();
    for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL');
    await ctx?.close();
  });

  it('chats across processes, and after one is killed its clients reconnect to the other with no message lost or repeated', async () => {
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    const aliveA = () => a.child.exitCode === null && a.child.signalCode === null;
    balancer = await startBalancer([{ port: a.port, alive: aliveA }, { port: b.port, alive: () => true }]);
    const viaBalancer = `http://127.0.0.1:${balancer.port}`;

    // The agent signs in on process B.
    const user = await createStaffUser(ctx, 'csr');
    const token = await loginStaff(ctx, user, OPEN);
    const agent = await openSocket(`http://127.0.0.1:${b.port}`, '/agent', { token });
    sockets.push(agent.socket);
    await agent.ask('presence:set', { presence: 'available' });

    // The shopper starts through the balancer, which sends them to process A.
    const started = await api(viaBalancer, 'POST', '/api/chat/sessions', { body: { name: 'Pat Two', email: 'pat@example.com', topic: 'order' } });
    expect(started.body.mode, JSON.stringify(started.body)).to.equal('chat');
    const sessionId = started.body.sessionId as string;
    const shopperSocket = connect(`${viaBalancer}/chat`, { path: '/socket.io', auth: { token: started.body.token }, transports: ['websocket'], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500, forceNew: true });
    sockets.push(shopperSocket);
    const shopper = chatClient(
      shopperSocket,
      async (afterSeq) => {
        const ack = (await shopperSocket.timeout(5000).emitWithAck('chat:resume', { afterSeq })) as Ack<{ messages: ChatMessage[] }>;
        return ack.ok ? ack.data.messages : [];
      },
      (clientId, body) => shopperSocket.timeout(2000).emitWithAck('chat:send', { clientId, body }) as Promise<Ack<{ seq: number }>>,
    );
    await new Promise<void>((resolve) => (shopperSocket.connected ? resolve() : shopperSocket.once('connect', () => resolve())));

    const offer = await agent.next<{ task: Task }>('task:offered', (o) => o.task.summary.channel === 'chat' && 'sessionId' in o.task.summary && o.task.summary.sessionId === sessionId, 30_000);
    await agent.ask('task:accept', { taskId: offer.task.id });
    await agent.ask('chat:open', { sessionId });
    const agentMessages = new Map<number, ChatMessage>();
    agent.socket.on('chat:message', (m: ChatMessage) => {
      if (!agentMessages.has(m.seq)) agentMessages.set(m.seq, m);
    });

    // Before the kill: both directions across the two processes.
    shopper.send('hello from process A');
    await waitFor('the agent on B to get the shopper\'s message from A', async () => ([...agentMessages.values()].some((m) => m.body === 'hello from process A') ? true : undefined));
    const hi = await agent.ask<{ seq: number }>('chat:send', { sessionId, clientId: randomUUID(), body: 'hello from process B' });
    await waitFor('the shopper on A to get the agent\'s message from B', async () => (shopper.messages.has(hi.seq) ? true : undefined));

    // Messages in flight both ways while A dies.
    const fromAgent: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i += 1) {
      shopper.send(`shopper ${i}`);
      fromAgent.push(agent.ask('chat:send', { sessionId, clientId: `agent-${i}-${randomUUID().slice(0, 8)}`, body: `agent ${i}` }));
      if (i === 4) a.child.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await Promise.all(fromAgent);
    await waitFor('the shopper to reconnect through the balancer to B', async () => (shopper.reconnects() > 0 && shopperSocket.connected ? true : undefined), 60_000);
    await waitFor('every shopper message to be acknowledged', async () => (shopper.pending.size === 0 ? true : undefined), 60_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${shopper.pending.size} pending, connected ${shopperSocket.connected}, last error ${shopper.lastError()}; B: ${b.stderr.join('').slice(-1500)}`);
    });
    const after = await agent.ask<{ seq: number }>('chat:send', { sessionId, clientId: randomUUID(), body: 'still there?' });
    await waitFor('the shopper to get the message sent after the move', async () => (shopper.messages.has(after.seq) ? true : undefined), 30_000);

    const stored = await ctx.services.core.mongo.collection('chat_messages').find({ sessionId }).sort({ seq: 1 }).toArray();
    const visible = stored.filter((m) => m.visibility === 'all').map((m) => m.seq as number);
    expect([...shopper.messages.keys()].sort((x, y) => x - y), 'the shopper has every message exactly once').to.deep.equal(visible);
    const shopperBodies = stored.filter((m) => m.author.kind === 'visitor').map((m) => m.body as string);
    expect(shopperBodies.sort(), 'each shopper message stored once').to.deep.equal(['hello from process A', ...Array.from({ length: 10 }, (_, i) => `shopper ${i}`)].sort());
    const agentBodies = stored.filter((m) => m.author.kind === 'agent').map((m) => m.body as string);
    expect(agentBodies.sort(), 'each agent message stored once').to.deep.equal(['hello from process B', ...Array.from({ length: 10 }, (_, i) => `agent ${i}`), 'still there?'].sort());
    // The agent, on the surviving process, got every shopper message once: what A relayed before dying,
    // and what B relayed after (a resend of a message A stored but never announced is announced again).
    const agentGot = () => [...agentMessages.values()].filter((m) => m.author.kind === 'visitor').map((m) => m.body).sort();
    await waitFor('the agent to have every shopper message', async () => (agentGot().length === shopperBodies.length ? true : undefined), 30_000).catch(() => undefined);
    expect(agentGot()).to.deep.equal([...shopperBodies].sort());
    expect(new Set(shopper.acked.values()).size, 'distinct seq per acknowledged message').to.equal(shopper.acked.size);
  });
});
