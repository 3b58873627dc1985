import { signal } from '@preact/signals';
import type { z } from 'zod';
import type { ChatMessage, StaffSessionView } from '../../../../api/console-contract/chat.ts';
import { SupervisorClientEvents, SupervisorServerEvents, type ChatInvitation } from '../../../../api/console-contract/events.ts';
import type { FloorChat, FloorSnapshot, QueueStats } from '../../../../api/console-contract/floor.ts';
import type { Presence } from '../../../../api/console-contract/agents.ts';
import { newClientId } from '../../lib/ids.ts';
import { announce } from '../announce.ts';
import { mergeMessages } from '../desk/chats.ts';
import { openStaffSocket } from '../staff-socket.ts';

export interface FloorSample {
  at: number;
  waiting: number;
  available: number;
  busy: number;
  serviceLevel: number | null;
}

export interface Monitored {
  session: StaffSessionView;
  messages: ChatMessage[];
  barged: boolean;
}

const HISTORY_POINTS = 120;
const SAMPLE_EVERY_MS = 5_000;

/**
 * The supervisor's live view: the floor snapshot kept current by floor:* events (no refresh),
 * a rolling history of its figures for the charts, invitations from agents, and one monitored
 * chat with whisper and barge-in.
 */
export function createSupervisor() {
  const socket = openStaffSocket('/supervisor', { client: SupervisorClientEvents, server: SupervisorServerEvents });
  const floor = signal<FloorSnapshot | null>(null);
  const history = signal<FloorSample[]>([]);
  const invitations = signal<z.infer<typeof ChatInvitation>[]>([]);
  const monitored = signal<Monitored | null>(null);
  const error = signal<string | null>(null);

  function patch(change: (snapshot: FloorSnapshot) => FloorSnapshot) {
    if (floor.value) floor.value = change(floor.value);
  }
  function sample() {
    const snapshot = floor.value;
    if (!snapshot) return;
    const chat = snapshot.queues.find((q) => q.channel === 'chat');
    const point: FloorSample = {
      at: Date.now(),
      waiting: snapshot.queues.reduce((sum, q) => sum + q.waiting, 0),
      available: snapshot.agents.filter((a) => a.presence === 'available').length,
      busy: snapshot.agents.filter((a) => a.tasks.length > 0).length,
      serviceLevel: chat?.serviceLevel ?? null,
    };
    history.value = [...history.value, point].slice(-HISTORY_POINTS);
  }
  const sampler = setInterval(sample, SAMPLE_EVERY_MS);

  async function subscribe() {
    try {
      floor.value = await socket.request('floor:subscribe', {});
      error.value = null;
      sample();
      const current = monitored.value;
      if (current) {
        const resumed = await socket.request('chat:resume', { sessions: [{ sessionId: current.session.sessionId, afterSeq: current.messages.at(-1)?.seq ?? 0 }] });
        const again = resumed.sessions[0];
        if (again && monitored.value) monitored.value = { ...monitored.value, session: again.session, messages: mergeMessages(monitored.value.messages, again.messages) };
      }
    } catch (e) {
      error.value = (e as Error).message;
    }
  }
  socket.raw.on('connect', () => void subscribe());

  const unsubscribe = [
    socket.on('floor:agent', ({ agent }) =>
      patch((s) => ({ ...s, agents: s.agents.some((a) => a.staffUserId === agent.staffUserId) ? s.agents.map((a) => (a.staffUserId === agent.staffUserId ? agent : a)) : [...s.agents, agent] })),
    ),
    socket.on('floor:queue', ({ queue }: { queue: QueueStats }) =>
      patch((s) => ({ ...s, queues: s.queues.some((q) => q.channel === queue.channel) ? s.queues.map((q) => (q.channel === queue.channel ? queue : q)) : [...s.queues, queue] })),
    ),
    socket.on('floor:chat', (update) =>
      patch((s) => {
        if (update.op === 'remove') return { ...s, chats: s.chats.filter((c) => c.sessionId !== update.sessionId) };
        const chat: FloorChat = update.chat;
        return { ...s, chats: s.chats.some((c) => c.sessionId === chat.sessionId) ? s.chats.map((c) => (c.sessionId === chat.sessionId ? chat : c)) : [...s.chats, chat] };
      }),
    ),
    socket.on('chat:invitation', (invitation) => {
      invitations.value = [...invitations.value.filter((i) => i.sessionId !== invitation.sessionId), invitation];
      announce(`${invitation.from.displayName} asks you to join a chat.`, 'assertive');
    }),
    socket.on('chat:message', (message) => {
      const current = monitored.value;
      if (current?.session.sessionId === message.sessionId) monitored.value = { ...current, messages: mergeMessages(current.messages, [message]) };
    }),
    socket.on('chat:session', (session) => {
      const current = monitored.value;
      if (current?.session.sessionId === session.sessionId) monitored.value = { ...current, session };
    }),
  ];

  return {
    socket,
    floor,
    history,
    invitations,
    monitored,
    error,
    async monitor(sessionId: string) {
      const previous = monitored.value;
      if (previous && previous.session.sessionId !== sessionId) await socket.request('chat:unmonitor', { sessionId: previous.session.sessionId }).catch(() => undefined);
      const { session, messages } = await socket.request('chat:monitor', { sessionId });
      monitored.value = { session, messages, barged: false };
      invitations.value = invitations.value.filter((i) => i.sessionId !== sessionId);
    },
    async stopMonitoring() {
      const current = monitored.value;
      monitored.value = null;
      if (current) await socket.request('chat:unmonitor', { sessionId: current.session.sessionId }).catch(() => undefined);
    },
    async whisper(body: string) {
      const current = monitored.value;
      if (!current) return;
      await socket.request('chat:whisper', { sessionId: current.session.sessionId, clientId: newClientId(), body });
    },
    async barge() {
      const current = monitored.value;
      if (!current) return;
      const session = await socket.request('chat:barge', { sessionId: current.session.sessionId });
      monitored.value = { ...current, session, barged: true };
    },
    async send(body: string, visibility: 'all' | 'internal') {
      const current = monitored.value;
      if (!current) return;
      await socket.request('chat:send', { sessionId: current.session.sessionId, clientId: newClientId(), body, visibility });
    },
    async reassign(taskId: string, toStaffUserId: string) {
      await socket.request('task:reassign', { taskId, toStaffUserId });
    },
    async setPresence(staffUserId: string, presence: Presence) {
      const agent = await socket.request('agent:set-presence', { staffUserId, presence });
      patch((s) => ({ ...s, agents: s.agents.map((a) => (a.staffUserId === agent.staffUserId ? agent : a)) }));
    },
    close() {
      clearInterval(sampler);
      for (const off of unsubscribe) off();
      socket.close();
    },
  };
}

export type Supervisor = ReturnType<typeof createSupervisor>;
