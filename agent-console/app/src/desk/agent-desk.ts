import { computed, signal } from '@preact/signals';
import { AgentClientEvents, AgentServerEvents } from '../../../../api/console-contract/events.ts';
import type { Task } from '../../../../api/console-contract/tasks.ts';
import { announce } from '../announce.ts';
import { openStaffSocket } from '../staff-socket.ts';
import { createChatThreads } from './chats.ts';
import { createTaskDesk } from './task-desk.ts';

/**
 * Everything the agent desk holds for the session: the /agent socket, the routing state and the
 * open chats. Created once at sign-in (offers arrive whichever screen is showing), closed at sign-out.
 */
export function createAgentDesk() {
  const socket = openStaffSocket('/agent', { client: AgentClientEvents, server: AgentServerEvents });
  const activeTaskId = signal<string | null>(null);
  const chats = createChatThreads(socket);

  async function open(task: Task) {
    if (task.summary.channel !== 'chat') return;
    const { sessionId } = task.summary;
    if (chats.threads.value.has(sessionId)) return;
    const opened = await socket.request('chat:open', { sessionId });
    chats.set(opened.session, opened.messages);
  }

  const desk = createTaskDesk(socket, {
    onTask(task) {
      if (task.state === 'assigned' || task.state === 'wrapping_up') {
        void open(task).catch((error: Error) => announce(`The chat could not be opened: ${error.message}`, 'assertive'));
        if (!activeTaskId.value) activeTaskId.value = task.id;
      }
      if (task.state === 'completed' || task.state === 'cancelled' || task.state === 'abandoned') closeTab(task);
    },
    onRevoked: (task) => closeTab(task),
  });

  function closeTab(task: Task) {
    if (task.summary.channel === 'chat') chats.forget(task.summary.sessionId);
    if (activeTaskId.value === task.id) activeTaskId.value = desk.held.value.find((t) => t.id !== task.id)?.id ?? null;
  }

  const activeTask = computed(() => (activeTaskId.value ? desk.tasks.value.get(activeTaskId.value) ?? null : null));

  return {
    socket,
    desk,
    chats,
    activeTaskId,
    activeTask,
    close() {
      desk.close();
      chats.close();
      socket.close();
    },
  };
}

export type AgentDesk = ReturnType<typeof createAgentDesk>;
