import { randomBytes } from 'node:crypto';
import type { CheckoutService } from '../../api/checkout/service.ts';
import type { Services } from '../../api/services.ts';
import type { EnrollmentDoc } from '../../api/subscriptions/model.ts';
import type { RunView } from '../../api/subscriptions/schema.ts';
import { validateCard } from '../../api/vault/cards.ts';
import { createSubscriptionGenerator, RunInterruptedError } from '../../workers/subscriptions/generator.ts';

/**
 * Subscription order generation (`benchmarkSubscriptionGeneration`: seeds a program, generates one
 * release through the real checkout with the production generator, stops the first run half way
 * and resumes it), checked independently afterwards: orders counted per (enrollment, release)
 * straight from the orders collection, and every enrollment's allocation settled.
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

export interface GenerationBenchmarkOptions {
  /** Enrollments to generate orders for. */
  enrollments: number;
  /**
   * Customers the enrollments are spread over (registration hashes passwords, so thousands of
   * them would measure scrypt, not the generator). Each enrollment ships to its own household.
   * @defaultValue min(enrollments, 20)
   */
  customers?: number;
  /** Stop the first run after this many orders and resume it (a worker killed half way). */
  killAfter?: number;
  concurrency?: number;
  settleBatchSize?: number;
  onProgress?: (run: RunView) => void;
}

export interface GenerationBenchmarkResult {
  enrollments: number;
  program: string;
  releaseSku: string;
  runId: string;
  seedMs: number;
  /** Generation only: first run plus the resumed run, seeding excluded. */
  generateMs: number;
  firstRun: { ms: number; done: number; interrupted: boolean; reason: string | null };
  resumedRun: { ms: number; done: number } | null;
  orders: number;
  /** Enrollments with more than one order of the release: must be 0. */
  duplicates: number;
  ordersPerSecond: number;
}

/**
 * Seeds a program with `enrollments` active enrollments (customers and saved cards through the
 * services, enrollments in bulk) and generates one release's orders through the real checkout,
 * optionally stopping half way and resuming, then counts orders and duplicates. For the bench
 * harness; it writes to whatever database the services use.
 */
export async function benchmarkSubscriptionGeneration(services: Services, options: GenerationBenchmarkOptions): Promise<GenerationBenchmarkResult> {
  const { subscriptions, core } = services;
  const count = options.enrollments;
  const tag = randomBytes(3).toString('hex').toUpperCase();
  const program = `BENCH-${tag}`;
  const seedStarted = Date.now();
  await subscriptions.ready();

  const product = await services.catalog.create(
    {
      sku: `BENCH-${tag}-REL`,
      name: `Benchmark release ${tag}`,
      priceCents: 4_995,
      releaseAt: new Date(core.clock().getTime() + 30 * 24 * 3600 * 1000).toISOString(),
      program,
      totalStock: count,
      category: 'proof_sets',
    },
    { type: 'system', component: 'subscription-benchmark' },
  );

  const customerCount = Math.max(1, Math.min(count, options.customers ?? 20));
  const owners: { customerId: string; card: EnrollmentDoc['card']; cardToken: string }[] = [];
  for (let i = 0; i < customerCount; i += 1) {
    const login = await services.customers.register({
      firstName: 'Bench',
      lastName: `Subscriber${i}`,
      email: `bench.${tag.toLowerCase()}.${i}@example.com`,
      phone: '(202) 555-0100',
      loginName: `bench_${tag.toLowerCase()}_${i}`,
      password: `bench password ${tag} ${i}`,
      securityQuestion: { questionId: 'favourite_coin', answer: 'Mercury dime' },
      ageAttestation: true,
      acceptTerms: true,
    });
    const card = validateCard({ number: '4242424242424242', expMonth: 12, expYear: core.clock().getUTCFullYear() + 3, cvv: '123' }, core.clock(), '');
    const saved = await services.vault.tokenise(card, { nameOnCard: `Bench Subscriber${i}`, customerId: login.customer.id, save: true });
    owners.push({ customerId: login.customer.id, cardToken: saved.cardToken, card: { brand: saved.brand, last4: saved.last4, expMonth: saved.expMonth, expYear: saved.expYear } });
  }
  for (let start = 0; start < count; start += 1000) {
    const docs = [];
    for (let i = start; i < Math.min(count, start + 1000); i += 1) {
      const owner = owners[i % owners.length]!;
      const shipTo = { line1: `${i + 1} Bench Street`, city: 'Springfield', state: 'IL', postalCode: '62701', country: 'US' };
      docs.push(subscriptions.buildEnrollment(owner.customerId, { program, quantity: 1, shipTo, cardToken: owner.cardToken, limits: { maxReleasesPerYear: null, endsAt: null }, attestation: { termsAccepted: true, ageConfirmed: true } }, owner.card));
    }
    await subscriptions.models.Enrollments.insertMany(docs, { ordered: false });
  }
  const seedMs = Date.now() - seedStarted;

  const generator = createSubscriptionGenerator({ subscriptions, checkout: services.checkout, orders: services.orders, queues: core.queues, redis: core.redis, redisPrefix: core.redisPrefix, clock: core.clock, logger: core.logger });
  const run = await subscriptions.createRun({ program, releaseSku: product.sku, trigger: 'benchmark', requestedBy: 'system:subscription-benchmark', retryFailed: false });
  const tuning = { ...(options.concurrency ? { concurrency: options.concurrency } : {}), ...(options.settleBatchSize ? { settleBatchSize: options.settleBatchSize } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) };

  const abort = new AbortController();
  let placed = 0;
  const killing: Pick<CheckoutService, 'placeOrder'> = {
    async placeOrder(body, context) {
      const order = await services.checkout.placeOrder(body, context);
      placed += 1;
      if (options.killAfter !== undefined && placed >= options.killAfter) abort.abort();
      return order;
    },
  };
  let started = Date.now();
  let interrupted = false;
  let reason: string | null = null;
  let first: RunView;
  try {
    first = await createSubscriptionGenerator({ subscriptions, checkout: killing, orders: services.orders, queues: core.queues, redis: core.redis, redisPrefix: core.redisPrefix, clock: core.clock, logger: core.logger }).generate(run._id, { ...tuning, signal: abort.signal });
  } catch (error) {
    if (!(error instanceof RunInterruptedError)) throw error;
    interrupted = true;
    reason = error.message;
    first = await subscriptions.getRun(run._id);
  }
  const firstRun = { ms: Date.now() - started, done: first.done, interrupted, reason };
  let resumedRun: GenerationBenchmarkResult['resumedRun'] = null;
  if (interrupted) {
    started = Date.now();
    const resumed = await generator.generate(run._id, tuning);
    resumedRun = { ms: Date.now() - started, done: resumed.done - first.done };
  }
  const generateMs = firstRun.ms + (resumedRun?.ms ?? 0);

  const perEnrollment = new Map<string, number>();
  for await (const order of services.orders.model.find({ releaseSku: product.sku }, { enrollmentId: 1 }).lean().cursor({ batchSize: 1000 })) {
    perEnrollment.set(String(order.enrollmentId), (perEnrollment.get(String(order.enrollmentId)) ?? 0) + 1);
  }
  const orders = [...perEnrollment.values()].reduce((sum, n) => sum + n, 0);
  return {
    enrollments: count,
    program,
    releaseSku: product.sku,
    runId: run._id,
    seedMs,
    generateMs,
    firstRun,
    resumedRun,
    orders,
    duplicates: [...perEnrollment.values()].filter((n) => n > 1).length,
    ordersPerSecond: Math.round((orders / Math.max(1, generateMs)) * 1000 * 10) / 10,
  };
}
