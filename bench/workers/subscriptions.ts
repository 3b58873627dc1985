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
  // $group with $sum and $count only: what FerretDB 1.24 and MongoDB 7 both run.
  const [perEnrollment, duplicates, ordersOfRelease, enrollmentsInProgram] = await Promise.all([
    orders.aggregate<{ n: number }>([{ $match: { releaseSku: hook.releaseSku } }, { $group: { _id: '$enrollmentId', n: { $sum: 1 } } }, { $count: 'n' }]),
    orders.aggregate<{ n: number }>([{ $match: { releaseSku: hook.releaseSku } }, { $group: { _id: '$enrollmentId', n: { $sum: 1 } } }, { $match: { n: { $gt: 1 } } }, { $count: 'n' }]),
    orders.countDocuments({ releaseSku: hook.releaseSku }),
    Enrollments.countDocuments({ program: hook.program }),
  ]);
  const allocations: Record<string, number> = {};
  for (const state of ['claimed', 'ordered', 'failed', 'skipped']) allocations[state] = await Allocations.countDocuments({ releaseSku: hook.releaseSku, state });
  return {
    hook,
    enrollmentsInProgram,
    enrollmentsWithOrder: perEnrollment[0]?.n ?? 0,
    duplicateEnrollments: duplicates[0]?.n ?? 0,
    ordersOfRelease,
    allocations,
    run: await services.subscriptions.getRun(hook.runId),
  };
}
