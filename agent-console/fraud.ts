import type { Socket } from 'socket.io';
import type { Principal } from '../api/http/principal.ts';
import { NotFoundError, ForbiddenError } from '../platform/errors.ts';
import type { Task } from '../api/tasks/schema.ts';
import { onContractEvent } from './acks.ts';
import type { ConsoleContext } from './context.ts';
import { FraudClientEvents } from '../api/console-contract/events.ts';
import type { FraudReviewDetail } from '../api/console-contract/fraud.ts';

type StaffPrincipal = Extract<Principal, { type: 'staff' }>;

/**
 * Fraud analysts' review tasks. The review itself (reading the held order, approving or
 * declining) goes through the fraud service, which audits every read and decision.
 */
export function registerFraud(socket: Socket, ctx: ConsoleContext): void {
  const { tasks, fraud } = ctx.services;
  const options = { logger: ctx.logger, validateAcks: ctx.validateAcks, namespacePermission: 'fraud:review' as const };
  const map = FraudClientEvents;

  async function reviewTask(taskId: string, principal: StaffPrincipal): Promise<Task & { summary: { channel: 'fraud_review' } }> {
    const task = await tasks.get(taskId);
    if (task.summary.channel !== 'fraud_review') throw new NotFoundError('task', 'tasks.not_found', 'No such review task.');
    if (task.assignee?.staffUserId !== principal.staffUserId || (task.state !== 'assigned' && task.state !== 'wrapping_up')) throw new ForbiddenError('tasks.not_yours', 'Accept the task first.');
    return task as Task & { summary: { channel: 'fraud_review' } };
  }

  async function detail(task: Task, principal: StaffPrincipal): Promise<FraudReviewDetail> {
    if (task.summary.channel !== 'fraud_review') throw new NotFoundError('task', 'tasks.not_found', 'No such review task.');
    const review = await fraud.getReview(principal, task.summary.orderNumber);
    const assessment = await fraud.assessmentOf(review.orderId);
    const signals = (assessment?.signals ?? {}) as { velocity?: { dimension: string; windowSeconds: number; count: number }[]; distinctCards?: { windowDays: number; count: number }[] };
    const order = await ctx.services.orders.get(review.orderId);
    return {
      taskId: task.id,
      orderNumber: review.orderNumber,
      orderId: review.orderId,
      status: review.status,
      channel: review.channel,
      placedAt: review.placedAt,
      totalCents: review.totalCents,
      score: review.score,
      reviewThreshold: assessment?.reviewThreshold ?? null,
      ruleSetVersion: review.ruleSetVersion,
      fired: review.fired,
      purchaser: review.purchaser,
      customer: order.customerId ? { customerId: order.customerId, accountCreatedAt: null } : null,
      billingAddress: review.billingAddress,
      shipments: review.shipments,
      lines: review.lines.map((l) => ({ sku: l.sku, name: l.name, quantity: l.quantity, unitPriceCents: l.unitPriceCents })),
      payment: review.payment,
      velocity: signals.velocity ?? [],
      distinctCards: signals.distinctCards ?? [],
      review: review.review,
    };
  }

  onContractEvent(socket, map, 'fraud:detail', async ({ taskId }, principal) => detail(await reviewTask(taskId, principal), principal), options);

  onContractEvent(socket, map, 'fraud:decide', async ({ taskId, decision, note }, principal) => {
    const task = await reviewTask(taskId, principal);
    await fraud.decide(principal, task.summary.orderNumber, { decision, note });
    const ended = await tasks.end(principal, taskId);
    return { task: ended, detail: await detail(ended, principal) };
  }, options);
}
