import type { Socket } from 'socket.io';
import { onContractEvent } from './acks.ts';
import { FLOOR_ROOM, type ConsoleContext } from './context.ts';
import { SupervisorClientEvents } from '../api/console-contract/events.ts';
import type { FloorChat, FloorSnapshot } from '../api/console-contract/floor.ts';
import type { ChatSessionDoc } from '../api/chat/model.ts';

/** The supervisor's floor and tools over tasks and agents (chat tools are in chat.ts). */
export function registerSupervisor(socket: Socket, ctx: ConsoleContext): void {
  const { tasks } = ctx.services;
  const options = { logger: ctx.logger, validateAcks: ctx.validateAcks, namespacePermission: 'chat:monitor' as const };
  const map = SupervisorClientEvents;

  onContractEvent(socket, map, 'floor:subscribe', async () => {
    await socket.join(FLOOR_ROOM);
    return floorSnapshot(ctx);
  }, options);

  onContractEvent(socket, map, 'floor:unsubscribe', async () => {
    await socket.leave(FLOOR_ROOM);
    return {};
  }, options);

  onContractEvent(socket, map, 'tasks:list', async (filter) => tasks.list({ states: filter?.states, channel: filter?.channel }), options);

  onContractEvent(socket, map, 'task:reassign', async ({ taskId, toStaffUserId }, principal) => tasks.reassign(principal, taskId, toStaffUserId), options);

  onContractEvent(socket, map, 'agent:set-presence', async ({ staffUserId, presence }, principal) => tasks.setPresence(staffUserId, presence, principal), options);

  onContractEvent(socket, map, 'agent:configure', async (request, principal) => tasks.configureAgent(principal, request), options);
}

export async function floorChat(ctx: ConsoleContext, doc: ChatSessionDoc): Promise<FloorChat> {
  return {
    sessionId: doc._id,
    taskId: doc.taskId,
    state: doc.state === 'active' ? 'active' : 'waiting',
    agent: doc.agent ? { staffUserId: doc.agent.staffUserId, displayName: await ctx.displayName(doc.agent.staffUserId) } : null,
    visitorFirstName: ctx.services.chat.firstNameOf(doc.visitor.name),
    topic: doc.visitor.topic,
    startedAt: doc.startedAt.toISOString(),
    lastMessageAt: await ctx.services.chat.lastMessageAt(doc._id),
  };
}

export async function floorSnapshot(ctx: ConsoleContext): Promise<FloorSnapshot> {
  const { tasks, chat } = ctx.services;
  const [agents, queues, sessions] = await Promise.all([tasks.agents(), tasks.allQueueStats(), chat.inProgress()]);
  return { at: ctx.services.core.clock().toISOString(), agents, queues, chats: await Promise.all(sessions.map((doc) => floorChat(ctx, doc))) };
}
