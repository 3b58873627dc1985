import { randomUUID } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import type { StaffRole } from '../../api/staff/permissions.ts';
import type { Ack } from '../../api/console-contract/events.ts';
import type { ChatMessage } from '../../api/console-contract/chat.ts';
import { api } from '../support/http.ts';
import type { TestContext } from '../support/infra.ts';
import { waitFor } from '../support/order-flow.ts';
import { createStaffUser, loginStaff, type TestStaffUser } from '../support/staff-sessions.ts';

/**
 * Socket clients for the console's integration tests: a recorded socket (every event it received,
 * in order), acks that throw on `{ ok: false }`, and the shopper's and agents' usual first steps.
 */
export interface Recorded {
  socket: Socket;
  events: { event: string; payload: unknown }[];
  /** Resolves with the first recorded event (already received or not) matching. */
  next<T = unknown>(event: string, match?: (payload: T) => boolean, timeoutMs?: number): Promise<T>;
  all<T = unknown>(event: string): T[];
  ask<T = unknown>(event: string, payload?: unknown): Promise<T>;
  askRaw(event: string, payload?: unknown): Promise<Ack<unknown>>;
  close(): void;
}

export function record(socket: Socket): Recorded {
  const events: { event: string; payload: unknown }[] = [];
  socket.onAny((event: string, payload: unknown) => events.push({ event, payload }));
  return {
    socket,
    events,
    next<T>(event: string, match: (payload: T) => boolean = () => true, timeoutMs = 15_000) {
      return waitFor(`socket event ${event}`, async () => events.find((e) => e.event === event && match(e.payload as T))?.payload as T | undefined, timeoutMs);
    },
    all<T>(event: string) {
      return events.filter((e) => e.event === event).map((e) => e.payload as T);
    },
    async askRaw(event: string, payload: unknown = {}) {
      return (await socket.timeout(15_000).emitWithAck(event, payload)) as Ack<unknown>;
    },
    async ask<T>(event: string, payload: unknown = {}) {
      const ack = (await socket.timeout(15_000).emitWithAck(event, payload)) as Ack<T>;
      if (!ack.ok) throw Object.assign(new Error(`${event}: ${ack.error.code} ${ack.error.message}`), { code: ack.error.code });
      return ack.data;
    },
    close: () => void socket.close(),
  };
}

export function openSocket(baseUrl: string, namespace: string, auth: Record<string, unknown>, options: { reconnection?: boolean } = {}): Promise<Recorded> {
  return new Promise((resolve, reject) => {
    const socket = connect(`${baseUrl}${namespace}`, { path: '/socket.io', auth, transports: ['websocket'], reconnection: options.reconnection ?? false, forceNew: true });
    const recorded = record(socket);
    socket.once('connect', () => resolve(recorded));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

export interface ConsoleAgent {
  user: TestStaffUser;
  token: string;
  desk: Recorded;
}

/** A staff user signed in, on their namespace, set available (for desk roles). */
export async function signedIn(ctx: TestContext, role: StaffRole, namespace: '/agent' | '/fraud' | '/supervisor', options: { available?: boolean; baseUrl?: string } = {}): Promise<ConsoleAgent> {
  const user = await createStaffUser(ctx, role);
  const token = await loginStaff(ctx, user);
  const desk = await openSocket(options.baseUrl ?? ctx.baseUrl, namespace, { token });
  if (options.available !== false && namespace !== '/supervisor') await desk.ask('presence:set', { presence: 'available' });
  return { user, token, desk };
}

export interface Shopper {
  sessionId: string;
  token: string;
  socket: Recorded;
  email: string;
}

export async function startChat(ctx: TestContext, form: Partial<{ name: string; email: string; topic: string; language: string }> = {}, baseUrl = ctx.baseUrl): Promise<Shopper> {
  const email = form.email ?? `shopper-${randomUUID().slice(0, 8)}@example.com`;
  const started = await api(baseUrl, 'POST', '/api/chat/sessions', { body: { name: form.name ?? 'Ada Lovelace', email, topic: form.topic ?? 'order', ...(form.language ? { language: form.language } : {}) } });
  if (started.status !== 201 || started.body.mode !== 'chat') throw new Error(`chat did not start: ${started.status} ${JSON.stringify(started.body)}`);
  const socket = await openSocket(baseUrl, '/chat', { token: started.body.token });
  return { sessionId: started.body.sessionId, token: started.body.token, socket, email };
}

/** The agent accepts the offer of the shopper's chat and opens it. */
export async function acceptChat(agent: ConsoleAgent, shopper: Shopper) {
  const offer = await agent.desk.next<{ task: { id: string; summary: { sessionId?: string } } }>('task:offered', (p) => p.task.summary.sessionId === shopper.sessionId);
  await agent.desk.ask('task:accept', { taskId: offer.task.id });
  const opened = await agent.desk.ask<{ session: { sessionId: string }; messages: ChatMessage[] }>('chat:open', { sessionId: shopper.sessionId });
  return { taskId: offer.task.id, opened };
}

export const clientId = () => randomUUID().replace(/-/g, '');
