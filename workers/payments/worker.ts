import { startQueueWorker, type RunningWorker, type WorkerRuntime } from '../runner.ts';

/**
 * The `payment-authorise` queue: an order that passed fraud screening (or an analyst) has its
 * total authorised and captured on the card on file; a decline ends the order, tells the customer
 * and returns the stock (orderLifecycle.authorisePayment).
 *
 * A gateway that does not answer is a ServiceUnavailableError, retried with backoff under the
 * same per-order idempotency key, so a retry never places a second hold. A repeated job for an
 * order already paid or declined does nothing.
 */
export function startPaymentWorker(runtime: WorkerRuntime, options: { concurrency?: number } = {}): RunningWorker {
  const { services, bullConnection } = runtime;
  return startQueueWorker(
    { connection: bullConnection, prefix: services.core.queues.prefix, logger: services.core.logger },
    {
      queue: 'payment-authorise',
      // Bounded by what the processor accepts from one client, not by our CPU.
      concurrency: options.concurrency ?? 10,
      async handler({ orderId }) {
        const order = await services.orderLifecycle.authorisePayment(orderId, { actor: 'system:payments', reason: 'payment authorised and captured' });
        return { status: order.status };
      },
    },
  );
}
