import type { ChatChange } from '../api/chat/service.ts';
import type { TaskChange } from '../api/tasks/service.ts';
import type { TaskChannel } from '../api/tasks/schema.ts';
import { chatRoom, FLOOR_ROOM, staffRoom, SUPERVISORS_ROOM, type ConsoleContext } from './context.ts';
import type { ChatMessage } from '../api/console-contract/chat.ts';
import { floorChat } from './supervisor.ts';

/**
 * Turns task and chat changes into socket events. A change is relayed by the process that made it,
 * to rooms across every process (the Redis adapter), so each event is sent once. Periodic
 * refreshes (queue figures that move with time, visitors' place in line) go by each process to
 * its own sockets only.
 */
export function startRelay(ctx: ConsoleContext, options: { refreshMs: number }): () => void {
  const { services, emit, logger } = ctx;
  const { tasks, chat } = services;

  // Queue figures change with every task change; a burst of changes sends one update per channel.
  const dirtyQueues = new Set<TaskChannel>();
  let queueTimer: NodeJS.Timeout | undefined;
  function queueChanged(channel: TaskChannel) {
    dirtyQueues.add(channel);
    queueTimer ??= setTimeout(() => {
      queueTimer = undefined;
      const channels = [...dirtyQueues];
      dirtyQueues.clear();
      for (const ch of channels) {
        void tasks.queueStats(ch).then((queue) => emit.to('/supervisor', FLOOR_ROOM, 'floor:queue', { queue }), (error: Error) => logger.warn({ err: error.message }, 'queue figures not sent'));
      }
      if (channels.includes('chat')) void refreshVisitors();
    }, 250);
  }

  function onTask(change: TaskChange) {
    if (change.kind === 'agent') {
      emit.to('/agent', staffRoom(change.agent.staffUserId), 'agent:updated', { agent: change.agent });
      emit.to('/fraud', staffRoom(change.agent.staffUserId), 'agent:updated', { agent: change.agent });
      emit.to('/supervisor', FLOOR_ROOM, 'floor:agent', { agent: change.agent });
      return;
    }
    const { task, previousHolder, revoked } = change;
    const holder = task.offer?.staffUserId ?? task.assignee?.staffUserId ?? null;
    const desk = task.channel === 'fraud_review' ? '/fraud' : '/agent';
    if (previousHolder && (revoked || holder !== previousHolder)) {
      emit.to(desk, staffRoom(previousHolder), 'task:revoked', { taskId: task.id, reason: revoked ?? 'withdrawn' });
    }
    if (holder && !(revoked && holder === previousHolder)) {
      if (task.state === 'offered') emit.to(desk, staffRoom(holder), 'task:offered', { task });
      else emit.to(desk, staffRoom(holder), 'task:updated', { task });
    }
    emit.to('/supervisor', FLOOR_ROOM, 'floor:task', { task });
    queueChanged(task.channel);

    if (task.summary.channel === 'chat') {
      const room = chatRoom(task.summary.sessionId);
      const assignee = task.state === 'assigned' || task.state === 'wrapping_up' ? (task.assignee?.staffUserId ?? null) : null;
      if (previousHolder && previousHolder !== assignee) ctx.io.of('/agent').in(staffRoom(previousHolder)).socketsLeave(room);
      if (assignee) ctx.io.of('/agent').in(staffRoom(assignee)).socketsJoin(room);
    }
  }

  function visitorMessage(message: ChatMessage): ChatMessage {
    const { whisperTo: _whisper, ...rest } = message;
    const staff = message.author.kind === 'agent' || message.author.kind === 'supervisor';
    return { ...rest, author: { kind: message.author.kind, name: staff ? chat.firstNameOf(message.author.name) : message.author.name } };
  }

  async function onChat(change: ChatChange) {
    switch (change.kind) {
      case 'message': {
        const { message } = change;
        const room = chatRoom(message.sessionId);
        if (message.visibility === 'all') emit.to('/chat', room, 'chat:message', visitorMessage(message));
        if (message.visibility === 'whisper') {
          if (message.whisperTo) emit.to('/agent', staffRoom(message.whisperTo), 'chat:message', message);
        } else {
          emit.to('/agent', room, 'chat:message', message);
        }
        emit.to('/supervisor', room, 'chat:message', message);
        return;
      }
      case 'receipts': {
        const payload = { sessionId: change.sessionId, receipts: change.receipts };
        for (const namespace of ['/chat', '/agent', '/supervisor'] as const) emit.to(namespace, chatRoom(change.sessionId), 'chat:receipt', payload);
        return;
      }
      case 'session': {
        const room = chatRoom(change.sessionId);
        const [visitor, staff] = await Promise.all([chat.visitorSession(change.sessionId), chat.staffSession(change.sessionId)]);
        emit.to('/chat', room, 'chat:session', visitor);
        emit.to('/agent', room, 'chat:session', staff);
        emit.to('/supervisor', room, 'chat:session', staff);
        if (staff.state === 'ended') emit.to('/supervisor', FLOOR_ROOM, 'floor:chat', { op: 'remove', sessionId: change.sessionId });
        else {
          const [doc] = (await chat.inProgress()).filter((d) => d._id === change.sessionId);
          if (doc) emit.to('/supervisor', FLOOR_ROOM, 'floor:chat', { op: 'upsert', chat: await floorChat(ctx, doc) });
        }
        return;
      }
      case 'invitation':
        emit.to('/supervisor', SUPERVISORS_ROOM, 'chat:invitation', { sessionId: change.sessionId, from: change.from, note: change.note, at: change.at });
        return;
    }
  }

  /** Each waiting visitor connected to this process: their place in line and expected wait. */
  let refreshingVisitors = false;
  async function refreshVisitors() {
    if (refreshingVisitors) return;
    refreshingVisitors = true;
    try {
      for (const socket of ctx.io.of('/chat').sockets.values()) {
        const sessionId = socket.data.sessionId as string | undefined;
        if (!sessionId) continue;
        const fields = await chat.staffVisibleSessionOf(sessionId).catch(() => undefined);
        if (fields?.state !== 'waiting' || !fields.taskId) continue;
        emit.socket('/chat', socket, 'chat:queue', await tasks.estimate('chat', fields.taskId));
      }
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'visitor queue positions not sent');
    } finally {
      refreshingVisitors = false;
    }
  }

  const stopTasks = tasks.onChange(onTask);
  const stopChat = chat.onChange((change) => void onChat(change).catch((error: Error) => logger.error({ err: error.message }, 'chat change not relayed')));
  const refresh = setInterval(async () => {
    await refreshVisitors();
    // Longest waits grow with time: this process's floor subscribers get fresh queue figures.
    if (ctx.io.of('/supervisor').adapter.rooms.get(FLOOR_ROOM)?.size) {
      for (const queue of await tasks.allQueueStats().catch(() => [])) emit.local('/supervisor', FLOOR_ROOM, 'floor:queue', { queue });
    }
  }, options.refreshMs);
  refresh.unref();

  return () => {
    stopTasks();
    stopChat();
    clearInterval(refresh);
    if (queueTimer) clearTimeout(queueTimer);
  };
}
