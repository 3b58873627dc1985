import type { Socket } from 'socket.io';
import type { Principal } from '../api/http/principal.ts';
import type { Permission } from '../api/staff/permissions.ts';
import { assertHolder } from '../api/tasks/service.ts';
import type { Task } from '../api/tasks/schema.ts';
import { onContractEvent } from './acks.ts';
import type { ConsoleContext } from './context.ts';
import { AgentClientEvents, FraudClientEvents } from '../api/console-contract/events.ts';

type StaffPrincipal = Extract<Principal, { type: 'staff' }>;

/**
 * The desk, shared by /agent (CSRs, supervisors) and /fraud (analysts): presence, offers,
 * accept/decline, end and wrap-up. A call or callback task also moves the IVR's own record
 * (accepting a call takes it out of the phone queue), so the staff API and the console agree.
 */
export function registerDesk(socket: Socket, ctx: ConsoleContext, map: typeof AgentClientEvents | typeof FraudClientEvents, namespacePermission: Permission): void {
  const { services, logger } = ctx;
  const { tasks } = services;
  const options = { logger, validateAcks: ctx.validateAcks, namespacePermission };
  // Both maps share the desk events; register from the agent map's definitions (identical in both).
  const desk = map as typeof AgentClientEvents;

  onContractEvent(socket, desk, 'desk:state', async (_payload, principal) => ({
    agent: (await tasks.agent(principal.staffUserId)) ?? (await tasks.ensureAgent(principal.staffUserId)),
    tasks: await tasks.tasksOf(principal.staffUserId),
  }), options);

  onContractEvent(socket, desk, 'presence:set', async ({ presence }, principal) => tasks.setPresence(principal.staffUserId, presence), options);

  onContractEvent(socket, desk, 'task:accept', async ({ taskId }, principal) => {
    const task = await tasks.accept(principal, taskId);
    await followUpAccept(ctx, principal, task);
    return task;
  }, options);

  onContractEvent(socket, desk, 'task:decline', async ({ taskId }, principal) => {
    await tasks.decline(principal, taskId);
    return { taskId };
  }, options);

  onContractEvent(socket, desk, 'task:end', async ({ taskId }, principal) => {
    assertHolder(await tasks.get(taskId), principal.staffUserId);
    return tasks.end(principal, taskId);
  }, options);

  onContractEvent(socket, desk, 'task:wrap-up', async ({ taskId, disposition, notes }, principal) => {
    const task = await tasks.wrapUp(principal, taskId, { disposition, notes });
    if (task.summary.channel === 'callback' && (disposition === 'callback_completed' || disposition === 'callback_unreachable')) {
      await services.ivr
        .completeCallback(principal, task.summary.callbackId, { result: disposition === 'callback_completed' ? 'reached' : 'no_answer' })
        .catch((error: Error) => logger.warn({ err: error.message, taskId }, 'callback record not completed'));
    }
    return task;
  }, options);
}

/** The IVR's side of an accepted call or callback: take the call out of the queue, claim the callback. */
async function followUpAccept(ctx: ConsoleContext, principal: StaffPrincipal, task: Task): Promise<void> {
  const { services, logger } = ctx;
  if (task.summary.channel === 'call') {
    try {
      await services.ivr.acceptCall(principal, task.summary.callSid, {});
    } catch (error) {
      // The caller is gone or another path took the call: the task has nothing left to do.
      logger.warn({ err: (error as Error).message, taskId: task.id }, 'accepted call task could not take the call from the queue');
      await services.tasks.cancel(task.id, 'cancelled', 'call no longer waiting');
      throw error;
    }
  } else if (task.summary.channel === 'callback') {
    await services.ivr.claimCallback(principal, task.summary.callbackId).catch((error: Error) => logger.warn({ err: error.message, taskId: task.id }, 'callback record not claimed'));
  }
}

/** Tasks the agent holds, for joining chat rooms on (re)connection. */
export async function heldChatSessions(ctx: ConsoleContext, staffUserId: string): Promise<string[]> {
  const held = await ctx.services.tasks.tasksOf(staffUserId);
  return held.flatMap((t) => (t.summary.channel === 'chat' && (t.state === 'assigned' || t.state === 'wrapping_up') ? [t.summary.sessionId] : []));
}
