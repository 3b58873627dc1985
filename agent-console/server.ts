import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server, type Namespace, type Socket } from 'socket.io';
import { z } from 'zod';
import type { Principal } from '../api/http/principal.ts';
import type { CoreDeps, Services } from '../api/services.ts';
import { roleHas, SOCKET_NAMESPACES, type Permission } from '../api/staff/permissions.ts';
import { startTaskIntake } from '../api/tasks/intake.ts';
import type { DomainEvent, DomainEventType } from '../platform/events.ts';
import { onEvent, toAck } from './acks.ts';
import { AuthenticationError, ForbiddenError } from '../platform/errors.ts';
import { registerAgentChat, registerShopper, registerSupervisorChat } from './chat.ts';
import { chatRoom, staffRoom, SUPERVISORS_ROOM, type ConsoleContext } from './context.ts';
import { AgentClientEvents, FraudClientEvents } from '../api/console-contract/events.ts';
import { heldChatSessions, registerDesk } from './desk.ts';
import { createEmitter, type Emitter } from './emit.ts';
import { registerFraud } from './fraud.ts';
import { startRelay } from './relay.ts';
import { registerSupervisor } from './supervisor.ts';

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
const ShopperAuth = z.object({ token: z.string().min(10).max(300) });

/**
 * What the console's sockets use: staff sessions, the audit log, the domain event stream. No queues:
 * the socket server (its own process, `mintdesk ws`) consumes events and never enqueues work.
 */
export type ConsoleSocketDeps = Pick<Services, 'staff' | 'audit'> & { core: Pick<CoreDeps, 'events' | 'logger'> };

export interface ConsoleSockets {
  io: Server;
  /** Socket events sent or refused against the contract (tests assert no invalid payload was produced). */
  emitter: Emitter;
  close(): Promise<void>;
}

export interface ConsoleSocketOptions {
  /** How often open staff sockets re-check their session (idle timeout, revocation). @defaultValue 30000 */
  recheckMs?: number;
  /** Share rooms and broadcasts with the other processes through Redis streams. @defaultValue true */
  adapter?: boolean;
  /** Route tasks in this process (every process may). `false` only for tests that route by hand. @defaultValue every second */
  routing?: { intervalMs?: number } | false;
  /** Turn domain events into tasks (one process at a time does, under a lease). @defaultValue true */
  intake?: boolean;
  /** A visitor waiting in line with no socket for this long has abandoned the chat. @defaultValue 60000 */
  visitorGraceMs?: number;
  /** An agent with no console socket for this long is set offline. @defaultValue 30000 */
  agentGraceMs?: number;
  /** Queue figures and visitors' places in line are refreshed this often. @defaultValue 3000 */
  refreshMs?: number;
}

/**
 * The console's real-time side. Each namespace requires a live staff session whose role has the
 * namespace's permission; each event handler names its own permission (acks.ts). Sessions are
 * re-checked periodically (idle timeout, revocation) and a suspension drops the user's sockets at
 * once. Domain events come from the Redis stream, so every process delivers them to its own
 * sockets, and a client that reconnects with its last event id gets what it missed.
 */
export function attachConsoleSockets(httpServer: HttpServer, services: Services, options: ConsoleSocketOptions = {}): ConsoleSockets {
  const { core, staff } = services;
  // Several API processes: rooms and broadcasts go through a Redis stream, which also keeps
  // sessions for connection-state recovery when a client comes back to another process.
  const adapterClient = options.adapter === false ? undefined : core.redis.duplicate();
  const io = new Server(httpServer, {
    path: '/socket.io',
    serveClient: false,
    cors: { origin: false },
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false },
    ...(adapterClient
      ? {
          adapter: createAdapter(adapterClient, {
            streamName: `${core.redisPrefix}:socket.io`,
            channelPrefix: `${core.redisPrefix}:socket.io`,
            sessionKeyPrefix: `${core.redisPrefix}:sio:session:`,
            blockTimeInMs: 1000,
            onlyPlaintext: true,
          }),
        }
      : {}),
  });
  const namespaces = new Map<string, Namespace>();
  const validate = core.config.env !== 'production';
  const emitter = createEmitter(io, { validate, logger: core.logger });
  const names = new Map<string, string>();
  const ctx: ConsoleContext = {
    io,
    services,
    emit: emitter,
    logger: core.logger,
    validateAcks: validate,
    async displayName(staffUserId) {
      let name = names.get(staffUserId);
      if (!name) {
        name = await staff.getUser(staffUserId).then((user) => user.displayName, () => 'Agent');
        names.set(staffUserId, name);
      }
      return name;
    },
  };
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, run: () => Promise<void>) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      void run().catch((error: Error) => core.logger.warn({ err: error.message }, 'console: deferred check failed'));
    }, ms);
    timer.unref();
    timers.add(timer);
  };

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
      const principal = socket.data.principal as StaffPrincipal;
      void socket.join(staffRoom(principal.staffUserId));
      const lastEventId = (socket.handshake.auth as { lastEventId?: string }).lastEventId;
      if (lastEventId) void replay(socket, name, lastEventId);
      // The one event every namespace has: what the signed-in user may do here.
      onEvent(socket, 'whoami', permission, z.object({}).optional(), async (_payload, principal) => ({ username: principal.username, role: principal.role }), core.logger);
      if (name === '/agent') {
        registerDesk(socket, ctx, AgentClientEvents, permission);
        registerAgentChat(socket, ctx);
        void deskConnected(socket, principal);
      } else if (name === '/fraud') {
        registerDesk(socket, ctx, FraudClientEvents, permission);
        registerFraud(socket, ctx);
        void deskConnected(socket, principal);
      } else if (name === '/supervisor') {
        void socket.join(SUPERVISORS_ROOM);
        registerSupervisor(socket, ctx);
        registerSupervisorChat(socket, ctx);
      }
    });
  }

  /** An agent's desk socket: routing knows the agent, and the socket is in the rooms of the chats they hold. */
  async function deskConnected(socket: Socket, principal: StaffPrincipal) {
    try {
      await services.tasks.ensureAgent(principal.staffUserId);
      if (socket.nsp.name === '/agent') for (const sessionId of await heldChatSessions(ctx, principal.staffUserId)) await socket.join(chatRoom(sessionId));
    } catch (error) {
      core.logger.warn({ err: (error as Error).message }, 'console: desk set-up on connection failed');
    }
    socket.on('disconnect', () => {
      // Gone from every process's desk sockets for a while: offline, so nothing is offered to nobody.
      later(options.agentGraceMs ?? 30_000, async () => {
        const [agentSockets, fraudSockets] = await Promise.all([io.of('/agent').in(staffRoom(principal.staffUserId)).fetchSockets(), io.of('/fraud').in(staffRoom(principal.staffUserId)).fetchSockets()]);
        if (agentSockets.length + fraudSockets.length === 0) await services.tasks.setPresence(principal.staffUserId, 'offline');
      });
    });
  }

  // The shopper's namespace: no staff session, the signed chat-session token from the pre-chat form.
  const shopper = io.of('/chat');
  shopper.use((socket, next) => {
    const auth = ShopperAuth.safeParse(socket.handshake.auth);
    const sessionId = auth.success ? services.chat.verifyToken(auth.data.token) : undefined;
    if (!sessionId) {
      const refusal = new Error('Your chat has ended; start a new one.') as Error & { data?: unknown };
      refusal.data = { code: 'chat.token_invalid', message: 'Your chat has ended; start a new one.' };
      return next(refusal);
    }
    socket.data.sessionId = sessionId;
    next();
  });
  shopper.on('connection', (socket) => {
    const sessionId = socket.data.sessionId as string;
    void socket.join(chatRoom(sessionId));
    registerShopper(socket, ctx);
    socket.on('disconnect', () => {
      later(options.visitorGraceMs ?? 60_000, async () => {
        if ((await shopper.in(chatRoom(sessionId)).fetchSockets()).length === 0) await services.chat.abandonIfWaiting(sessionId);
      });
    });
  });

  const stopRelay = startRelay(ctx, { refreshMs: options.refreshMs ?? 3000 });
  const intake = options.intake === false ? undefined : startTaskIntake({ redis: core.redis, redisPrefix: core.redisPrefix, tasks: services.tasks, logger: core.logger });
  if (options.routing !== false) void services.tasks.start({ intervalMs: options.routing?.intervalMs ?? 1000 }).catch((error: Error) => core.logger.error({ err: error.message }, 'task routing did not start'));

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
    emitter,
    async close() {
      clearInterval(recheck);
      for (const timer of timers) clearTimeout(timer);
      services.tasks.stop();
      stopRelay();
      await intake?.stop();
      await stopFollowing();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      adapterClient?.disconnect();
    },
  };
}
