import type { Server as HttpServer } from 'node:http';
import { Server, type Namespace, type Socket } from 'socket.io';
import { z } from 'zod';
import type { Principal } from '../api/http/principal.ts';
import type { CoreDeps, Services } from '../api/services.ts';
import { roleHas, SOCKET_NAMESPACES, type Permission } from '../api/staff/permissions.ts';
import type { DomainEvent, DomainEventType } from '../platform/events.ts';
import { onEvent, toAck } from './acks.ts';
import { AuthenticationError, ForbiddenError } from '../platform/errors.ts';

type StaffPrincipal = Extract<Principal, { type: 'staff' }>;

/** Which domain events each namespace forwards to its sockets, and the permission to receive them. */
const FORWARDED_EVENTS: Partial<Record<DomainEventType, { namespace: keyof typeof SOCKET_NAMESPACES; permission: Permission }>> = {
  'call.waiting': { namespace: '/calls', permission: 'calls:read' },
  'call.left_queue': { namespace: '/calls', permission: 'calls:read' },
  'call.connected': { namespace: '/calls', permission: 'calls:read' },
  'callback.requested': { namespace: '/calls', permission: 'callbacks:handle' },
  'order.review_required': { namespace: '/fraud', permission: 'fraud:review' },
};

const HandshakeAuth = z.object({ token: z.string().min(10).max(200), lastEventId: z.string().regex(/^\d+-\d+$/).optional() });

/**
 * What the console's sockets use: staff sessions, the audit log, the domain event stream. No queues:
 * the socket server (its own process, `mintdesk ws`) consumes events and never enqueues work.
 */
export type ConsoleSocketDeps = Pick<Services, 'staff' | 'audit'> & { core: Pick<CoreDeps, 'events' | 'logger'> };

export interface ConsoleSockets {
  io: Server;
  close(): Promise<void>;
}

/**
 * The console's real-time side. Each namespace requires a live staff session whose role has the
 * namespace's permission; each event handler names its own permission (acks.ts). Sessions are
 * re-checked periodically (idle timeout, revocation) and a suspension drops the user's sockets at
 * once. Domain events come from the Redis stream, so every process delivers them to its own
 * sockets, and a client that reconnects with its last event id gets what it missed.
 */
export function attachConsoleSockets(httpServer: HttpServer, services: ConsoleSocketDeps, options: { recheckMs?: number } = {}): ConsoleSockets {
  const { core, staff } = services;
  const io = new Server(httpServer, { path: '/socket.io', serveClient: false, cors: { origin: false } });
  const namespaces = new Map<string, Namespace>();

  for (const [name, permission] of Object.entries(SOCKET_NAMESPACES) as [keyof typeof SOCKET_NAMESPACES, Permission][]) {
    const namespace = io.of(name);
    namespaces.set(name, namespace);
    namespace.use(async (socket, next) => {
      try {
        const auth = HandshakeAuth.safeParse(socket.handshake.auth);
        if (!auth.success) throw new AuthenticationError('staff.unauthenticated', 'Staff sign-in required.');
        const principal = await staff.authenticate(auth.data.token, { ip: socket.handshake.address });
        if (principal?.type !== 'staff') throw new AuthenticationError('staff.session_invalid', 'Your session has ended; sign in again.');
        if (!roleHas(principal.role, permission)) {
          await services.audit.record({ actor: principal, action: 'access.denied', resource: { type: 'socket_namespace', id: name }, outcome: 'denied', ip: socket.handshake.address });
          throw new ForbiddenError('staff.forbidden', 'Your role does not allow this.');
        }
        socket.data.principal = principal;
        socket.data.token = auth.data.token;
        next();
      } catch (error) {
        const ack = toAck(error);
        const refusal = new Error(ack.ok ? 'refused' : ack.error.message) as Error & { data?: unknown };
        refusal.data = ack.ok ? undefined : ack.error;
        next(refusal);
      }
    });
    namespace.on('connection', (socket) => {
      void socket.join(`staff:${(socket.data.principal as StaffPrincipal).staffUserId}`);
      const lastEventId = (socket.handshake.auth as { lastEventId?: string }).lastEventId;
      if (lastEventId) void replay(socket, name, lastEventId);
      // The one event every namespace has: what the signed-in user may do here.
      onEvent(socket, 'whoami', permission, z.object({}).optional(), async (_payload, principal) => ({ username: principal.username, role: principal.role }), core.logger);
    });
  }

  async function replay(socket: Socket, namespaceName: string, afterId: string) {
    const missed = await core.events.readSince(afterId).catch(() => []);
    for (const event of missed) deliverTo(socket, namespaceName, event);
  }

  function deliverTo(socket: Socket, namespaceName: string, event: DomainEvent) {
    const route = FORWARDED_EVENTS[event.type];
    const principal = socket.data.principal as StaffPrincipal | undefined;
    if (!route || route.namespace !== namespaceName || !principal || !roleHas(principal.role, route.permission)) return;
    socket.emit('domain-event', event);
  }

  function disconnectUser(staffUserId: string, reason: string) {
    for (const namespace of namespaces.values()) {
      namespace.in(`staff:${staffUserId}`).emit('session-ended', { reason });
      namespace.in(`staff:${staffUserId}`).disconnectSockets(true);
    }
  }

  const stopFollowing = core.events.follow((event) => {
    if (event.type === 'staff.access_revoked') {
      disconnectUser((event.data as { staffUserId: string }).staffUserId, (event.data as { reason: string }).reason);
      return;
    }
    const route = FORWARDED_EVENTS[event.type];
    if (!route) return;
    const namespace = namespaces.get(route.namespace);
    for (const socket of namespace?.sockets.values() ?? []) deliverTo(socket, route.namespace, event);
  });

  // Idle timeout and revocation apply to sockets too: re-validate each socket's session.
  const recheck = setInterval(async () => {
    for (const namespace of namespaces.values()) {
      for (const socket of namespace.sockets.values()) {
        // touch: false — an open socket is not activity; the idle timeout must still end the session.
        const principal = await staff.authenticate(socket.data.token as string, { touch: false }).catch(() => undefined);
        if (principal?.type !== 'staff') {
          socket.emit('session-ended', { reason: 'session_expired' });
          socket.disconnect(true);
        }
      }
    }
  }, options.recheckMs ?? 30_000);
  recheck.unref();

  return {
    io,
    async close() {
      clearInterval(recheck);
      await stopFollowing();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}
