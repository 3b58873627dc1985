import { computed, signal } from '@preact/signals';
import type { ReviewDetail, ReviewPage } from '../../../../api/fraud/schema.ts';
import { FraudClientEvents, FraudServerEvents } from '../../../../api/console-contract/events.ts';
import type { FraudReviewDetail } from '../../../../api/console-contract/fraud.ts';
import type { Task } from '../../../../api/console-contract/tasks.ts';
import { createTaskDesk } from '../desk/task-desk.ts';
import { api } from '../session.ts';
import { openStaffSocket } from '../staff-socket.ts';

/**
 * The fraud analyst's side: the review queue (every held order, from the fraud API) and the
 * review tasks routed to this analyst over /fraud. Deciding a review I hold goes through the task
 * (it moves to wrap-up); any other held order is decided through the fraud API. Both are audited.
 */
export function createFraudDesk() {
  const socket = openStaffSocket('/fraud', { client: FraudClientEvents, server: FraudServerEvents });
  const desk = createTaskDesk(socket);
  const queue = signal<ReviewPage | null>(null);
  const queueError = signal<string | null>(null);

  async function loadQueue() {
    try {
      queue.value = await api<ReviewPage>('GET', '/api/staff/fraud/reviews?pageSize=100');
      queueError.value = null;
    } catch (error) {
      queueError.value = (error as Error).message;
    }
  }

  const offDomain = socket.on('domain-event', (event) => {
    if (event.type === 'order.review_required') void loadQueue();
  });

  /** My review tasks by order number (offered, assigned or wrapping up). */
  const tasksByOrder = computed(() => {
    const map = new Map<string, Task>();
    for (const task of desk.tasks.value.values()) if (task.summary.channel === 'fraud_review') map.set(task.summary.orderNumber, task);
    return map;
  });

  return {
    socket,
    desk,
    queue,
    queueError,
    loadQueue,
    tasksByOrder,
    /** With the task: velocity counts included. Without: the fraud API's view of the order. */
    async detail(orderNumber: string): Promise<{ source: 'task'; detail: FraudReviewDetail } | { source: 'api'; detail: ReviewDetail }> {
      const task = tasksByOrder.value.get(orderNumber);
      if (task && task.state !== 'offered') return { source: 'task', detail: await socket.request('fraud:detail', { taskId: task.id }) };
      return { source: 'api', detail: await api<ReviewDetail>('GET', `/api/staff/fraud/reviews/${encodeURIComponent(orderNumber)}`) };
    },
    async decide(orderNumber: string, decision: 'approve' | 'decline', note: string) {
      const task = tasksByOrder.value.get(orderNumber);
      if (task && task.state === 'assigned') {
        const result = await socket.request('fraud:decide', { taskId: task.id, decision, note });
        await desk.refresh();
        await loadQueue();
        return result.detail.review;
      }
      const detail = await api<ReviewDetail>('POST', `/api/staff/fraud/reviews/${encodeURIComponent(orderNumber)}/decision`, { decision, note });
      await loadQueue();
      return detail.review;
    },
    close() {
      offDomain();
      desk.close();
      socket.close();
    },
  };
}

export type FraudDesk = ReturnType<typeof createFraudDesk>;
