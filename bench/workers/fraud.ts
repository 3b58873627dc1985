import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type { OrderDoc } from '../../api/orders/model.ts';
import { generateOrderNumber } from '../../api/orders/order-number.ts';
import type { Services } from '../../api/services.ts';
import { validateCard } from '../../api/vault/cards.ts';
import { scoreOrder } from '../../api/fraud/engine.ts';
import type { FraudSignals } from '../../api/fraud/facts.ts';
import { buildOrderFacts } from '../../workers/fraud/facts-builder.ts';
import { isPublicIp, lookupCountry } from '../../workers/fraud/geoip.ts';
import { startFraudWorker } from '../../workers/fraud/worker.ts';
import type { Runtime } from '../../apps/runtime.ts';
import { withLuhnCheckDigit } from '../../test/support/fixtures.ts';
import { runPool } from '../lib/http.ts';

/**
 * The fraud-check worker fed with many orders in `pending_fraud_check`. A few orders go through
 * the real checkout; the rest are copies of them inserted straight into the orders collection,
 * because the worker reads its order from Mongo and never asks how it got there. Each copy gets
 * what would make it a different shopper to the rules: its own id and number, email, address and
 * household key, a card of its own in the vault (the card velocity rule counts fingerprints) and
 * a US client address (the IP-country rule compares with the US billing address). So nearly every
 * order is cleared, as on a normal day, and the worker does the full clear path: score, status
 * change with the outbox, the payment job relayed, the assessment stored.
 */

export interface SeededOrders {
  /** Placed through checkout; their fraud-check jobs were queued by the checkout's outbox relay. */
  checkoutOrderIds: string[];
  templates: OrderDoc[];
  productSku: string;
}

export async function placeCheckoutOrders(services: Services, count: number): Promise<SeededOrders> {
  const sku = `BW-${Date.now().toString(36).toUpperCase()}`;
  await services.catalog.create(
    { sku, name: `Workers bench coin ${sku}`, description: 'Benchmark product.', priceCents: 12_500, releaseAt: new Date(Date.now() - 3600_000).toISOString(), totalStock: 10_000_000, householdLimit: null, active: true, category: 'coins' },
    { type: 'system', component: 'workers-benchmark' },
  );
  const ips = usIps(count, 7);
  const ids: string[] = [];
  for (let n = 0; n < count; n += 1) {
    const address = shopperAddress(n);
    const view = await services.checkout.placeOrder(
      {
        lines: [{ sku, quantity: 1 }],
        purchaser: { firstName: 'Bench', lastName: `Shopper${n}`, email: `fraud.${n}.${randomUUID().slice(0, 8)}@example.com`, phone: '202-555-0100' },
        billingAddress: address,
        shipments: [{ address }],
        payment: { type: 'card', card: { number: '4242 4242 4242 4242', expMonth: 12, expYear: new Date().getUTCFullYear() + 2, cvv: '123', nameOnCard: `Bench Shopper${n}` } },
        attestation: { termsAccepted: true, ageConfirmed: true },
      },
      { channel: 'web', customerId: null, ip: ips[n]! },
    );
    const order = await services.orders.findByNumber(view.orderNumber);
    if (!order) throw new Error(`order ${view.orderNumber} placed but not found`);
    ids.push(order._id);
  }
  const templates = (await services.orders.model.find({ _id: { $in: ids } }).lean()) as OrderDoc[];
  return { checkoutOrderIds: ids, templates, productSku: sku };
}

/**
 * Inserts `count` copies of the templates as distinct shoppers, still pending their fraud check,
 * and returns their ids. `firstIndex` keeps the shoppers of separate batches distinct.
 */
export async function insertOrderCopies(services: Services, templates: readonly OrderDoc[], count: number, firstIndex: number): Promise<string[]> {
  const { core, vault, addresses } = services;
  const ips = usIps(count, firstIndex + 1_000_003);
  // One card per shopper: tokenising is the vault's real write (sealed number, fingerprint).
  const cards: { cardToken: string; brand: string; last4: string }[] = new Array(count);
  await runPool(
    Array.from({ length: count }, (_, i) => i),
    16,
    async (i) => {
      const card = validateCard({ number: visaNumber(firstIndex + i), expMonth: 12, expYear: core.clock().getUTCFullYear() + 2, cvv: '123' }, core.clock(), '');
      const { cardToken, brand, last4 } = await vault.tokenise(card, { nameOnCard: `Bench Shopper${firstIndex + i}`, customerId: null, save: false });
      cards[i] = { cardToken, brand, last4 };
    },
  );
  const ids: string[] = [];
  for (let start = 0; start < count; start += 500) {
    const docs: OrderDoc[] = [];
    for (let i = start; i < Math.min(count, start + 500); i += 1) {
      const n = firstIndex + i;
      const template = templates[i % templates.length]!;
      const address = shopperAddress(n);
      const now = core.clock();
      const id = randomUUID();
      ids.push(id);
      docs.push({
        ...template,
        _id: id,
        orderNumber: generateOrderNumber(),
        status: 'pending_fraud_check',
        purchaser: { ...template.purchaser, lastName: `Shopper${n}`, email: `fraud.${n}.${id.slice(0, 8)}@example.com` },
        billingAddress: address,
        shipments: template.shipments.map((s) => ({ ...s, address, recipient: { firstName: 'Bench', lastName: `Shopper${n}` }, householdKey: addresses.householdKey(address) })),
        payment: { ...template.payment, ...cards[i]! },
        fraud: { score: null, decision: null, ruleSetVersion: null, fired: [], scoredAt: null, reviewedBy: null, reviewDecision: null, reviewNote: null, reviewedAt: null },
        statusHistory: [{ from: null, to: 'pending_fraud_check', at: now, actor: 'customer', reason: 'placed via web' }],
        // The benchmark queues the fraud-check job itself, as the outbox relay would have.
        outbox: [],
        outboxPending: false,
        clientIp: ips[i]!,
        placedAt: now,
        version: 0,
      });
    }
    // Retried per batch on the rare order-number collision (unique index); unordered keeps the rest.
    await services.orders.model.insertMany(docs, { ordered: false }).catch(async (error: { code?: number; writeErrors?: { index: number }[] }) => {
      if (error.code !== 11000 && !error.writeErrors) throw error;
      for (const { index } of error.writeErrors ?? []) await services.orders.model.create({ ...docs[index]!, orderNumber: generateOrderNumber() });
    });
  }
  return ids;
}

export interface FraudRunResult {
  jobs: number;
  completed: number;
  failed: number;
  /** First job started to last job finished, from BullMQ's own job timestamps. */
  spanMs: number;
  checksPerSecond: number;
  /** Per job, from taken by the worker to finished (includes waiting for Mongo/Redis under load). */
  jobMs: number[];
  failures: Map<string, number>;
  decisions: Map<string, number>;
  timedOut: boolean;
}

/**
 * Queues one fraud-check job per order (job id = eventId, as the outbox relay does), then starts
 * the real fraud worker (`startFraudWorker`) and waits for every job to finish or fail for good.
 * The jobs are all queued before the worker starts, so the worker is never starved by the producer.
 */
export async function runFraudJobs(
  runtime: Runtime,
  orderIds: readonly string[],
  options: { concurrency: number; timeoutMs: number; /** Called right before the worker starts and after it closed (round-trip tracing). */ around?: { start(): void; stop(): void } },
): Promise<FraudRunResult> {
  const queue = runtime.services.core.queues.queue('fraud-check');
  const jobIds = new Set<string>();
  for (let start = 0; start < orderIds.length; start += 1000) {
    const batch = orderIds.slice(start, start + 1000).map((orderId) => {
      const eventId = randomUUID();
      jobIds.add(eventId);
      // Kept after completion so their timestamps can be read back however many there are.
      return { name: 'fraud-check', data: { orderId, eventId }, opts: { jobId: eventId, removeOnComplete: false } };
    });
    await queue.addBulk(batch);
  }

  options.around?.start();
  const worker = startFraudWorker(runtime, { concurrency: options.concurrency });
  const deadline = Date.now() + options.timeoutMs;
  let timedOut = false;
  try {
    // Queue-wide counts: one cheap Redis round trip per poll. The queue holds only this run's jobs
    // (the warm-up drained the checkout's), so empty means every one of ours has finished.
    for (;;) {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
      const pending = Object.values(counts).reduce((sum, n) => sum + n, 0);
      if (pending === 0) break;
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await worker.close();
    options.around?.stop();
  }

  const finished: Job[] = [];
  for (const state of ['completed', 'failed'] as const) {
    const total = await queue.getJobCountByTypes(state);
    for (let start = 0; start < total; start += 1000) {
      for (const job of await queue.getJobs([state], start, start + 999, true)) if (job && jobIds.has(job.id!)) finished.push(job);
    }
  }
  let first = Infinity;
  let last = 0;
  const jobMs: number[] = [];
  const failures = new Map<string, number>();
  const decisions = new Map<string, number>();
  let completed = 0;
  let failed = 0;
  for (const job of finished) {
    if (job.processedOn) first = Math.min(first, job.processedOn);
    if (job.finishedOn) last = Math.max(last, job.finishedOn);
    if (job.failedReason) {
      failed += 1;
      failures.set(job.failedReason.slice(0, 120), (failures.get(job.failedReason.slice(0, 120)) ?? 0) + 1);
      continue;
    }
    completed += 1;
    if (job.processedOn && job.finishedOn) jobMs.push(job.finishedOn - job.processedOn);
    const outcome = (job.returnvalue as { outcome?: string } | undefined)?.outcome ?? 'unknown';
    decisions.set(outcome, (decisions.get(outcome) ?? 0) + 1);
  }
  const spanMs = Math.max(1, last - first);
  return { jobs: orderIds.length, completed, failed, spanMs, checksPerSecond: (completed / spanMs) * 1000, jobMs: jobMs.sort((a, b) => a - b), failures, decisions, timedOut: timedOut || completed + failed < orderIds.length };
}

/**
 * The scoring engine alone, over the facts and signals real orders were scored with (the stored
 * assessments), in a tight loop on this thread: the ceiling if scoring were the only work.
 */
export async function scoringBaseline(services: Services, orderIds: readonly string[], durationMs: number): Promise<{ scoresPerSecond: number; iterations: number; ruleCount: number }> {
  const { core, vault, addresses, fraud } = services;
  const ruleSet = await fraud.activeRuleSet();
  const sources = {
    secret: core.secrets.appSecret,
    nameKey: (first: string, last: string) => addresses.nameKey(first, last),
    cardFingerprint: async (token: string) => (await vault.card(token))?.fingerprint,
  };
  const inputs: { facts: Awaited<ReturnType<typeof buildOrderFacts>>; signals: FraudSignals }[] = [];
  for (const orderId of orderIds) {
    const [order, assessment] = await Promise.all([services.orders.get(orderId), fraud.assessmentOf(orderId)]);
    if (!assessment) continue;
    inputs.push({ facts: await buildOrderFacts(order, sources), signals: assessment.signals as FraudSignals });
  }
  if (inputs.length === 0) throw new Error('no stored assessments to replay');
  // Warm the JIT before timing.
  for (let i = 0; i < 20_000; i += 1) scoreOrder(inputs[i % inputs.length]!.facts, inputs[i % inputs.length]!.signals, ruleSet);
  let iterations = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (let i = 0; i < 1000; i += 1) {
      const input = inputs[(iterations + i) % inputs.length]!;
      scoreOrder(input.facts, input.signals, ruleSet);
    }
    iterations += 1000;
    elapsed = performance.now() - started;
  }
  return { scoresPerSecond: (iterations / elapsed) * 1000, iterations, ruleCount: ruleSet.rules.filter((r) => r.enabled).length };
}

function shopperAddress(n: number) {
  return { line1: `${100 + (n % 9900)} ${['Oak', 'Maple', 'Cedar', 'Elm', 'Walnut'][n % 5]} St`, line2: `Apt ${Math.floor(n / 9900) + 1}`, city: 'Springfield', state: 'IL', postalCode: '62701', country: 'US' };
}

/** A Luhn-valid 16-digit Visa test-range number, distinct per n (so is its vault fingerprint). */
function visaNumber(n: number): string {
  return withLuhnCheckDigit(`4${String(n).padStart(14, '0')}`);
}

/** Public IPv4 addresses the bundled GeoIP dataset places in the US, deterministic per seed. */
function usIps(count: number, seed: number): string[] {
  const ips: string[] = [];
  let state = seed >>> 0 || 1;
  while (ips.length < count) {
    // xorshift32: reproducible and spread over the whole address space.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const ip = `${state >>> 24}.${(state >>> 16) & 255}.${(state >>> 8) & 255}.${state & 255}`;
    if (isPublicIp(ip) && lookupCountry(ip) === 'US') ips.push(ip);
  }
  return ips;
}

/**
 * How the database serves the worker's most frequent query, an order by _id: the plan (FerretDB
 * 1.24 answers explain with PostgreSQL's plan, MongoDB with its winning stage) and the time of one
 * lookup with nothing else of ours running. A scan makes every check's cost grow with the
 * collection, which no worker concurrency can hide.
 */
export async function probeOrderLookup(services: Services, orderId: string): Promise<{ plan: string; msAlone: number; documents: number }> {
  const db = services.core.mongo.db!;
  const explained = (await db.command({ explain: { find: 'orders', filter: { _id: orderId } }, verbosity: 'queryPlanner' })) as {
    queryPlanner?: { Plan?: { 'Node Type'?: string; Filter?: string }; winningPlan?: { stage?: string; inputStage?: { stage?: string } } };
  };
  const pg = explained.queryPlanner?.Plan;
  const mongo = explained.queryPlanner?.winningPlan;
  const plan = pg ? `${pg['Node Type'] ?? '?'}${pg.Filter ? ` (filter ${pg.Filter.replace(/\w+_[0-9a-f]{8}\./g, '')})` : ''}` : `${mongo?.stage ?? '?'}${mongo?.inputStage?.stage ? ` <- ${mongo.inputStage.stage}` : ''}`;
  const times: number[] = [];
  for (let i = 0; i < 15; i += 1) {
    const started = performance.now();
    await services.orders.model.findById(orderId).lean();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { plan, msAlone: times[Math.floor(times.length / 2)]!, documents: await services.orders.model.estimatedDocumentCount() };
}
