import { expect } from 'chai';
import { io as connect, type Socket } from 'socket.io-client';
import { attachConsoleSockets, type ConsoleSockets } from '../../agent-console/server.ts';
import { SOCKET_NAMESPACES, roleHas, STAFF_ROLES } from '../../api/staff/permissions.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

function open(ctx: TestContext, namespace: string, auth: Record<string, unknown>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(`${ctx.baseUrl}${namespace}`, { path: '/socket.io', auth, transports: ['websocket'], reconnection: false, forceNew: true });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

describe('agent console: socket namespaces, permissions and revocation', function () {
  this.timeout(60_000);
  let ctx: TestContext;
  let sockets: ConsoleSockets;
  const opened: Socket[] = [];
  before(async () => {
    ctx = await createTestContext();
    sockets = attachConsoleSockets(ctx.server, ctx.services, { recheckMs: 200 });
  });
  after(async () => {
    for (const socket of opened) socket.close();
    await sockets?.close();
    await ctx?.close();
  });

  it('refuses a connection without a valid staff session', async () => {
    const error = await open(ctx, '/calls', { token: 'not-a-real-token-at-all' }).then(() => undefined, (e: Error & { data?: { code: string } }) => e);
    expect(error?.data?.code).to.equal('staff.session_invalid');
  });

  for (const role of STAFF_ROLES) {
    it(`lets a ${role} into exactly the namespaces the matrix allows`, async () => {
      const user = await createStaffUser(ctx, role);
      const token = await loginStaff(ctx, user);
      for (const [namespace, permission] of Object.entries(SOCKET_NAMESPACES)) {
        const outcome = await open(ctx, namespace, { token }).then(
          (socket) => {
            opened.push(socket);
            return 'connected';
          },
          (e: Error & { data?: { code: string } }) => e.data?.code,
        );
        expect(outcome, `${role} on ${namespace}`).to.equal(roleHas(role, permission) ? 'connected' : 'staff.forbidden');
      }
    });
  }

  it('acknowledges events through the error family and validates payloads', async () => {
    const user = await createStaffUser(ctx, 'csr');
    const socket = await open(ctx, '/calls', { token: await loginStaff(ctx, user) });
    opened.push(socket);
    const ack = await socket.timeout(5000).emitWithAck('whoami', {});
    expect(ack).to.deep.equal({ ok: true, data: { username: user.username, role: 'csr' } });
    const bad = await socket.timeout(5000).emitWithAck('whoami', 'not an object');
    expect(bad.ok).to.equal(false);
    expect(bad.error.code).to.equal('validation_failed');
  });

  it('delivers domain events to permitted sockets and replays what a reconnecting client missed', async () => {
    const user = await createStaffUser(ctx, 'csr');
    const token = await loginStaff(ctx, user);
    const socket = await open(ctx, '/calls', { token });
    opened.push(socket);
    const received = new Promise<{ id: string; type: string }>((resolve) => socket.once('domain-event', resolve));
    await ctx.services.core.events.publish('call.waiting', { callSid: 'CA1', queue: 'reps', callerId: '+12025550100', customerId: null, language: 'en', entered: {}, recordingDeclined: false, tty: false });
    const first = await received;
    expect(first.type).to.equal('call.waiting');
    socket.close();
    await ctx.services.core.events.publish('call.left_queue', { callSid: 'CA1', queue: 'reps', outcome: 'abandoned' });
    const again = connect(`${ctx.baseUrl}/calls`, { path: '/socket.io', auth: { token, lastEventId: first.id }, transports: ['websocket'], reconnection: false, forceNew: true });
    opened.push(again);
    const replayed = await new Promise<{ type: string }>((resolve) => again.on('domain-event', resolve));
    expect(replayed.type).to.equal('call.left_queue');
  });

  it('drops the sockets of a suspended user at once', async () => {
    const user = await createStaffUser(ctx, 'csr');
    const socket = await open(ctx, '/calls', { token: await loginStaff(ctx, user) });
    opened.push(socket);
    const dropped = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    await ctx.services.staff.suspend(user.id, 'security_incident', { type: 'system', component: 'test' });
    expect(await dropped).to.be.a('string');
  });
});
