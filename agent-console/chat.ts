import type { Socket } from 'socket.io';
import { assertHolder } from '../api/tasks/service.ts';
import { NotFoundError } from '../platform/errors.ts';
import { onContractEvent, onShopperEvent } from './acks.ts';
import { chatRoom, type ConsoleContext } from './context.ts';
import { AgentClientEvents, ShopperClientEvents, SupervisorClientEvents } from '../api/console-contract/events.ts';

/**
 * Chat over sockets: the shopper's widget (/chat), the agent's tabs (/agent) and the supervisor's
 * monitor, whisper and barge-in (/supervisor). Rooms: `chat:<sessionId>` in each namespace. The
 * visitor's sockets join it on connection; an agent's sockets join when the chat is assigned to
 * them (relay.ts) or when they open it; a supervisor's when they monitor it.
 */

export function registerShopper(socket: Socket, ctx: ConsoleContext): void {
  const { chat } = ctx.services;
  const options = { logger: ctx.logger, validateAcks: ctx.validateAcks };
  const map = ShopperClientEvents;

  onShopperEvent(socket, map, 'chat:state', async (_payload, sessionId) => chat.visitorState(sessionId, 0), options);
  onShopperEvent(socket, map, 'chat:resume', async ({ afterSeq }, sessionId) => chat.visitorState(sessionId, afterSeq), options);
  onShopperEvent(socket, map, 'chat:send', async ({ clientId, body }, sessionId) => chat.visitorSend(sessionId, clientId, body), options);
  onShopperEvent(socket, map, 'chat:typing', async ({ typing }, sessionId) => {
    const { visitorName } = await chat.staffVisibleSessionOf(sessionId);
    const payload = { sessionId, author: { kind: 'visitor' as const, name: visitorName }, typing };
    ctx.emit.to('/agent', chatRoom(sessionId), 'chat:typing', payload);
    ctx.emit.to('/supervisor', chatRoom(sessionId), 'chat:typing', payload);
    return {};
  }, options);
  onShopperEvent(socket, map, 'chat:receipt', async (marks, sessionId) => chat.receipt(sessionId, 'visitor', marks), options);
  onShopperEvent(socket, map, 'chat:end', async (_payload, sessionId) => chat.visitorEnd(sessionId), options);
  onShopperEvent(socket, map, 'chat:transcript', async (_payload, sessionId) => chat.requestTranscript(sessionId), options);
  onShopperEvent(socket, map, 'chat:survey', async (survey, sessionId) => chat.survey(sessionId, survey), options);
}

export function registerAgentChat(socket: Socket, ctx: ConsoleContext): void {
  const { chat, tasks } = ctx.services;
  const options = { logger: ctx.logger, validateAcks: ctx.validateAcks, namespacePermission: 'chat:handle' as const };
  const map = AgentClientEvents;

  onContractEvent(socket, map, 'chat:open', async ({ sessionId }, principal) => {
    const opened = await chat.agentOpen(principal, sessionId);
    await socket.join(chatRoom(sessionId));
    return opened;
  }, options);

  onContractEvent(socket, map, 'chat:resume', async ({ sessions }, principal) => {
    const resumed = [];
    for (const { sessionId, afterSeq } of sessions) {
      const opened = await chat.agentOpen(principal, sessionId, afterSeq).catch(() => undefined);
      if (!opened) continue;
      await socket.join(chatRoom(sessionId));
      resumed.push(opened);
    }
    return { sessions: resumed };
  }, options);

  onContractEvent(socket, map, 'chat:send', async (input, principal) => chat.staffSend(principal, input, await ctx.displayName(principal.staffUserId), 'agent'), options);

  onContractEvent(socket, map, 'chat:send-link', async ({ sessionId, clientId, target }, principal) => {
    const link = await chat.linkFor(target);
    return chat.staffSend(principal, { sessionId, clientId, body: link.label, visibility: 'all', link }, await ctx.displayName(principal.staffUserId), 'agent');
  }, options);

  onContractEvent(socket, map, 'chat:typing', async ({ sessionId, typing }, principal) => {
    const fields = await chat.staffVisibleSessionOf(sessionId);
    if (fields.agent !== principal.staffUserId) return {};
    const payload = { sessionId, author: { kind: 'agent' as const, name: chat.firstNameOf(await ctx.displayName(principal.staffUserId)) }, typing };
    ctx.emit.to('/chat', chatRoom(sessionId), 'chat:typing', payload);
    ctx.emit.to('/supervisor', chatRoom(sessionId), 'chat:typing', payload);
    return {};
  }, options);

  onContractEvent(socket, map, 'chat:receipt', async ({ sessionId, ...marks }, principal) => {
    const fields = await chat.staffVisibleSessionOf(sessionId);
    if (fields.agent !== principal.staffUserId) throw new NotFoundError('chat', 'chat.not_your_chat', 'This chat is not assigned to you.');
    return chat.receipt(sessionId, 'agent', marks);
  }, options);

  onContractEvent(socket, map, 'chat:transfer', async ({ sessionId, to }, principal) => chat.transfer(principal, sessionId, to), options);

  onContractEvent(socket, map, 'chat:invite-supervisor', async ({ sessionId, note }, principal) => chat.inviteSupervisor(principal, sessionId, await ctx.displayName(principal.staffUserId), note), options);

  onContractEvent(socket, map, 'agents:transfer-candidates', async (_payload, principal) => {
    const agents = await tasks.agents();
    return agents
      .filter((a) => a.staffUserId !== principal.staffUserId && a.presence === 'available' && a.capacity.chat > a.load.chat)
      .map((a) => ({ staffUserId: a.staffUserId, displayName: a.displayName, presence: a.presence, spareChatCapacity: a.capacity.chat - a.load.chat }));
  }, options);

  onContractEvent(socket, map, 'canned:list', async () => chat.listCanned(), options);
  onContractEvent(socket, map, 'canned:render', async ({ sessionId, cannedId }, principal) => chat.renderCanned(principal, sessionId, cannedId, await ctx.displayName(principal.staffUserId)), options);

  onContractEvent(socket, map, 'message:open', async ({ taskId }, principal) => {
    const task = await tasks.get(taskId);
    assertHolder(task, principal.staffUserId);
    return chat.leftMessage(principal, task);
  }, options);

  onContractEvent(socket, map, 'customer:orders', async ({ sessionId }, principal) => chat.customerOrders(principal, sessionId), options);
}

export function registerSupervisorChat(socket: Socket, ctx: ConsoleContext): void {
  const { chat } = ctx.services;
  const options = { logger: ctx.logger, validateAcks: ctx.validateAcks, namespacePermission: 'chat:monitor' as const };
  const map = SupervisorClientEvents;

  onContractEvent(socket, map, 'chat:monitor', async ({ sessionId }, principal) => {
    const monitored = await chat.monitor(principal, sessionId);
    await socket.join(chatRoom(sessionId));
    return monitored;
  }, options);

  onContractEvent(socket, map, 'chat:unmonitor', async ({ sessionId }) => {
    await socket.leave(chatRoom(sessionId));
    return {};
  }, options);

  onContractEvent(socket, map, 'chat:resume', async ({ sessions }, principal) => {
    const resumed = [];
    for (const { sessionId, afterSeq } of sessions) {
      resumed.push(await chat.monitor(principal, sessionId, afterSeq));
      await socket.join(chatRoom(sessionId));
    }
    return { sessions: resumed };
  }, options);

  onContractEvent(socket, map, 'chat:whisper', async (input, principal) => chat.whisper(principal, input, await ctx.displayName(principal.staffUserId)), options);

  onContractEvent(socket, map, 'chat:barge', async ({ sessionId }, principal) => {
    await socket.join(chatRoom(sessionId));
    return chat.barge(principal, sessionId, await ctx.displayName(principal.staffUserId));
  }, options);

  onContractEvent(socket, map, 'chat:send', async (input, principal) => chat.staffSend(principal, input, await ctx.displayName(principal.staffUserId), 'supervisor'), options);
}
