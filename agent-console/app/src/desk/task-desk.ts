import { computed, signal } from '@preact/signals';
import type { AgentState, Presence } from '../../../../api/console-contract/agents.ts';
import type { AgentClientEvents, AgentServerEvents } from '../../../../api/console-contract/events.ts';
import type { Task, WrapUp } from '../../../../api/console-contract/tasks.ts';
import { announce } from '../announce.ts';
import type { StaffSocket } from '../staff-socket.ts';

type DeskEvents = 'desk:state' | 'presence:set' | 'task:accept' | 'task:decline' | 'task:end' | 'task:wrap-up';
type DeskServer = 'task:offered' | 'task:updated' | 'task:revoked' | 'agent:updated';
/** The desk part of /agent and /fraud: presence, offers, accept, decline, end, wrap-up. */
export type DeskSocket = StaffSocket<Pick<typeof AgentClientEvents, DeskEvents>, Pick<typeof AgentServerEvents, DeskServer>>;

const CHANNEL_NAMES: Record<Task['channel'], string> = { chat: 'chat', call: 'call', callback: 'callback', message: 'left message', fraud_review: 'fraud review' };

export function describeTask(task: Task): string {
  const s = task.summary;
  switch (s.channel) {
    case 'chat':
      return `Chat with ${s.visitorFirstName} about ${s.topic}`;
    case 'message':
      return `Message from ${s.visitorFirstName} about ${s.topic}`;
    case 'fraud_review':
      return `Review of order ${s.orderNumber} (score ${s.score})`;
    case 'call':
      return `Call from ${s.callerId}`;
    case 'callback':
      return `Callback request`;
  }
}

export type TaskDesk = ReturnType<typeof createTaskDesk>;

/**
 * The agent's own routing state, kept in signals: what the server says is the truth (desk:state on
 * every (re)connect, then task:* and agent:updated events); actions are acknowledged requests.
 */
export function createTaskDesk(socket: DeskSocket, hooks: { onTask?: (task: Task) => void; onRevoked?: (task: Task) => void } = {}) {
  const agent = signal<AgentState | null>(null);
  const tasks = signal<Map<string, Task>>(new Map());
  const error = signal<string | null>(null);

  const offers = computed(() => [...tasks.value.values()].filter((t) => t.state === 'offered').sort((a, b) => a.createdAt.localeCompare(b.createdAt)));
  const held = computed(() => [...tasks.value.values()].filter((t) => t.state === 'assigned' || t.state === 'wrapping_up').sort((a, b) => (a.assignedAt ?? '').localeCompare(b.assignedAt ?? '')));

  function put(task: Task) {
    const next = new Map(tasks.value);
    if (task.state === 'completed' || task.state === 'cancelled' || task.state === 'abandoned') next.delete(task.id);
    else next.set(task.id, task);
    tasks.value = next;
    hooks.onTask?.(task);
  }
  function drop(taskId: string) {
    const task = tasks.value.get(taskId);
    if (!task) return;
    const next = new Map(tasks.value);
    next.delete(taskId);
    tasks.value = next;
    hooks.onRevoked?.(task);
  }

  async function refresh() {
    try {
      const state = await socket.request('desk:state', {});
      agent.value = state.agent;
      tasks.value = new Map(state.tasks.map((t) => [t.id, t]));
      for (const task of state.tasks) hooks.onTask?.(task);
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  const unsubscribe = [
    socket.on('task:offered', ({ task }) => {
      put(task);
      announce(`New ${CHANNEL_NAMES[task.channel]} offered: ${describeTask(task)}. Press Alt+Shift+A to accept.`, 'assertive');
    }),
    socket.on('task:updated', ({ task }) => put(task)),
    socket.on('task:revoked', ({ taskId, reason }) => {
      const task = tasks.value.get(taskId);
      drop(taskId);
      if (task) announce(reason === 'expired' ? `The offer expired: ${describeTask(task)}.` : `${describeTask(task)} is no longer yours (${reason}).`);
    }),
    socket.on('agent:updated', ({ agent: next }) => {
      agent.value = next;
    }),
  ];
  socket.raw.on('connect', () => void refresh());
  if (socket.raw.connected) void refresh();

  return {
    agent,
    tasks,
    offers,
    held,
    error,
    refresh,
    async setPresence(presence: Presence) {
      agent.value = await socket.request('presence:set', { presence });
      announce(`You are ${presence === 'break' ? 'on a break' : presence}.`);
    },
    async accept(taskId: string) {
      put(await socket.request('task:accept', { taskId }));
    },
    async decline(taskId: string) {
      await socket.request('task:decline', { taskId });
      drop(taskId);
    },
    async end(taskId: string) {
      put(await socket.request('task:end', { taskId }));
    },
    async wrapUp(taskId: string, wrapUp: WrapUp) {
      put(await socket.request('task:wrap-up', { taskId, ...wrapUp }));
    },
    close() {
      for (const off of unsubscribe) off();
    },
  };
}
