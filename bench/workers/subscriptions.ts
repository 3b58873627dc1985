import type { RunView } from '../../api/subscriptions/schema.ts';
import type { Services } from '../../api/services.ts';
import { benchmarkSubscriptionGeneration, type GenerationBenchmarkResult } from '../../workers/subscriptions/generator.ts';

/**
 * Subscription order generation through the subscriptions engineer's hook
 * (`benchmarkSubscriptionGeneration`: seeds a program, generates one release through the real
 * checkout, stops the first run half way and resumes it), checked independently afterwards:
 * orders counted per (enrollment, release) straight from the orders collection, and every
 * enrollment's allocation settled.
 */

export interface SubscriptionCheck {
  hook: GenerationBenchmarkResult;
  enrollmentsInProgram: number;
  /** Enrollments of the program with at least one order of the release. */
  enrollmentsWithOrder: number;
  /** Enrollments with more than one order of the release (must be 0). */
  duplicateEnrollments: number;
  ordersOfRelease: number;
  allocations: Record<string, number>;
  run: RunView;
}

export async function runSubscriptionBenchmark(
  services: Services,
  options: { enrollments: number; concurrency?: number; onProgress?: (run: RunView) => void },
): Promise<SubscriptionCheck> {
  const hook = await benchmarkSubscriptionGeneration(services, {
    enrollments: options.enrollments,
    killAfter: Math.floor(options.enrollments / 2),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const { Enrollments, Allocations } = services.subscriptions.models;
  const orders = services.orders.model;
  // Counted here from one streamed pass rather than by $group: FerretDB 1.24 groups in memory with a
  // cost that grows with the square of the number of groups (100,000 enrollments did not finish in
  // 10 minutes), and the check must not be slower than what it checks.
  const ordersPerEnrollment = new Map<string, number>();
  for await (const order of orders.find({ releaseSku: hook.releaseSku }, { enrollmentId: 1 }).lean().cursor({ batchSize: 2000 })) {
    const enrollmentId = String(order.enrollmentId);
    ordersPerEnrollment.set(enrollmentId, (ordersPerEnrollment.get(enrollmentId) ?? 0) + 1);
  }
  const ordersOfRelease = [...ordersPerEnrollment.values()].reduce((sum, n) => sum + n, 0);
  const perEnrollment = ordersPerEnrollment.size;
  const duplicates = [...ordersPerEnrollment.values()].filter((n) => n > 1).length;
  const enrollmentsInProgram = await Enrollments.countDocuments({ program: hook.program });
  const allocations: Record<string, number> = {};
  for (const state of ['claimed', 'ordered', 'failed', 'skipped'] as const) allocations[state] = await Allocations.countDocuments({ releaseSku: hook.releaseSku, state });
  return {
    hook,
    enrollmentsInProgram,
    enrollmentsWithOrder: perEnrollment,
    duplicateEnrollments: duplicates,
    ordersOfRelease,
    allocations,
    run: await services.subscriptions.getRun(hook.runId),
  };
}
