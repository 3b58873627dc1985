import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import express from 'express';
import { createProduct } from '../../test/support/fixtures.ts';
import { LOAD_HEADERS, loadRow, measure } from '../lib/autocannon.ts';
import { cpuBetween, sampleCpu, type CpuSample } from '../lib/cpu.ts';
import { describeInfrastructure, startBenchRuntime } from '../lib/runtime.ts';
import { formatNumber, printTable } from '../lib/table.ts';
import { collectLaunchDayFacts, judgeLaunchDay, runLaunchDay } from './launch-day.ts';
import { traceRoundTrips } from './profile.ts';

/**
 * `npm run bench:checkout`: order placement through the real HTTP app on the embedded servers,
 * measured with autocannon beside a bare express endpoint in the same process (same tool, same
 * connections), then the launch-day scenario at ten times the size of the test. Targets from
 * issue 3: at least 300 orders/s with p99 under 250 ms at 50 connections; zero oversell.
 *
 * Every order is unique (household, email, client address, Idempotency-Key), so nothing is
 * replayed or refused by the limits. Client addresses come in X-Forwarded-For (TRUST_PROXY=true),
 * as they would behind the store's load balancer; the per-IP order limiter then meters shoppers,
 * not the benchmark machine.
 *
 * Flags: --duration 15 --connections 50 --launch-attempts 20000 --launch-units 1000
 * --launch-concurrency 200 --skip-launch --profile (Mongo and Redis round trips per order).
 * It prints; the exit code is 1 only when the launch sold more than it had (a correctness
 * failure), never for missing a throughput target.
 */

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '50' },
    'launch-attempts': { type: 'string', default: '20000' },
    'launch-units': { type: 'string', default: '1000' },
    'launch-concurrency': { type: 'string', default: '200' },
    'skip-launch': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const durationSeconds = Number(flags.duration);
const connections = Number(flags.connections);
const TARGET_ORDERS_PER_SECOND = 300;
const TARGET_P99_MS = 250;

const machine = () => `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
console.log(`checkout benchmark: node ${process.version}, ${cpus().length} CPUs, ${machine()}`);

const bench = await startBenchRuntime({ env: { TRUST_PROXY: 'true' }, monitorMongoCommands: flags.profile });
console.log(`runtime: ${describeInfrastructure(bench)} at ${bench.baseUrl}`);

// The floor: express parsing a JSON body of the same size and answering JSON, nothing else.
const bare = express();
bare.use(express.json({ limit: '64kb' }));
bare.post('/bare', (req, res) => void res.status(201).json({ ok: true, lines: Array.isArray(req.body?.lines) ? req.body.lines.length : 0 }));
const bareServer = bare.listen(0, '127.0.0.1');
await once(bareServer, 'listening');
const bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}`;

let exitCode = 0;
try {
  const product = await createProduct(bench.services, { totalStock: 50_000_000, householdLimit: null, priceCents: 12_500 });
  let sequence = 0;
  const nextOrder = () => {
    sequence += 1;
    const n = sequence;
    return {
      body: JSON.stringify(orderBody(product.sku, n)),
      headers: {
        'content-type': 'application/json',
        'idempotency-key': `bench-${randomUUID()}`,
        'x-forwarded-for': `172.${16 + ((n >> 16) & 15)}.${(n >> 8) & 255}.${n & 255}`,
      },
    };
  };

  const bareCpuBefore = sampleCpu();
  const bareResult = await measure({ name: 'bare express POST', url: bareUrl, method: 'POST', path: '/bare', connections, durationSeconds, next: nextOrder });
  const bareCpuAfter = sampleCpu();
  sequence = 0;
  const trace = flags.profile ? traceRoundTrips({ mongo: bench.services.core.mongo, redis: { redis: bench.services.core.redis, bull: bench.runtime.bullConnection } }) : undefined;
  const cpuBefore = sampleCpu();
  const ordersResult = await measure({ name: 'POST /api/orders', url: bench.baseUrl, method: 'POST', path: '/api/orders', connections, durationSeconds, next: nextOrder });
  const cpuAfter = sampleCpu();
  trace?.stop();
  printTable(`order placement, ${connections} connections, ${durationSeconds} s each (${machine()})`, LOAD_HEADERS, [loadRow(bareResult), loadRow(ordersResult)]);

  await placementsSettled();
  const stored = await bench.services.orders.model.countDocuments({ 'lines.sku': product.sku });
  const met = ordersResult.okPerSecond >= TARGET_ORDERS_PER_SECOND && ordersResult.latency.p99 < TARGET_P99_MS;
  console.log(`orders stored in Mongo: ${stored} (201 answers counted: ${ordersResult.ok}; the rest were in flight when the clock stopped)`);
  console.log(
    `target >= ${TARGET_ORDERS_PER_SECOND} orders/s with p99 < ${TARGET_P99_MS} ms: ${met ? 'MET' : 'NOT MET'} (${formatNumber(ordersResult.okPerSecond)} orders/s, p99 ${ordersResult.latency.p99} ms; bare express ${formatNumber(bareResult.okPerSecond)}/s)`,
  );

  printCpu('CPU during the bare express run', bareCpuBefore, bareCpuAfter, bareResult.ok, 'request');
  printCpu('CPU during order placement', cpuBefore, cpuAfter, ordersResult.ok, 'order');

  if (trace) {
    const perOrder = Math.max(1, ordersResult.ok);
    const rows = [...trace.byOperation]
      .sort((a, b) => b[1].totalMs - a[1].totalMs)
      .map(([name, stats]) => [name, stats.count / perOrder, stats.totalMs / stats.count, stats.totalMs / perOrder]);
    printTable(`round trips per placed order (${ordersResult.ok} orders; times include waiting under load)`, ['operation', 'per order', 'ms each', 'ms per order'], rows);
  }

  if (!flags['skip-launch']) {
    const attempts = Number(flags['launch-attempts']);
    const units = Number(flags['launch-units']);
    const concurrency = Number(flags['launch-concurrency']);
    const launchProduct = await createProduct(bench.services, { totalStock: units, householdLimit: 1 });
    const launchCpuBefore = sampleCpu();
    const run = await runLaunchDay({ baseUrl: bench.baseUrl, sku: launchProduct.sku, attempts, households: Math.round(attempts * 0.75), concurrency });
    printCpu('CPU during the launch', launchCpuBefore, sampleCpu(), run.requests, 'request');
    const facts = await collectLaunchDayFacts(bench.services, launchProduct.sku, units);
    const verdict = judgeLaunchDay(run, facts, { totalStock: units, householdLimit: 1 });
    const seconds = run.durationMs / 1000;
    printTable(`launch day: ${attempts} attempts on ${units} units, household limit 1, ${concurrency} in flight (${machine()})`, ['measure', 'value'], [
      ['requests (with retries)', run.requests],
      ['seconds', seconds],
      ['requests/s', run.requests / seconds],
      ['orders in Mongo', verdict.ordersInMongo],
      ['seconds until sold out', run.lastOrderAtMs / 1000],
      ['orders/s until sold out', verdict.ordersInMongo / (run.lastOrderAtMs / 1000)],
      ['refused: sold out', verdict.soldOut],
      ['refused: household limit', verdict.householdLimited],
      ['retries replayed', verdict.replays],
      ['Redis stock after', facts.stockAfter],
      ['oversold by (reconcile)', facts.reconciled.oversoldBy],
    ]);
    if (verdict.failures.length === 0) console.log('launch day: PASS (exactly the stock sold, one per household, every order answered once and stored once)');
    else {
      console.log(`launch day: FAIL\n  ${verdict.failures.join('\n  ')}`);
      exitCode = 1;
    }
  }
} finally {
  await placementsSettled().catch(() => undefined);
  bareServer.closeAllConnections();
  bareServer.close();
  await bench.shutdown();
}
process.exitCode = exitCode;

/**
 * autocannon stops counting at the deadline and drops its connections, but the server finishes
 * the placements already running. Each holds a pending Idempotency-Key claim until it answers.
 */
async function placementsSettled(): Promise<void> {
  const claims = bench.services.core.mongo.db!.collection('idempotency_keys');
  const deadline = Date.now() + 120_000;
  while ((await claims.countDocuments({ state: 'pending' })) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
}

/** CPU seconds per process group and per unit of work, or nothing where /proc is not available. */
function printCpu(title: string, before: CpuSample | undefined, after: CpuSample | undefined, units: number, unit: string) {
  if (!before || !after || units === 0) return;
  const rows = cpuBetween(before, after).map(({ group, seconds }) => [group, seconds, (seconds * 1000) / units]);
  printTable(`${title} (${units} ${unit}s)`, ['process', 'CPU s', `CPU ms per ${unit}`], rows);
}

function orderBody(sku: string, n: number) {
  const street = `${100 + (n % 9900)} ${['Oak', 'Maple', 'Cedar', 'Elm', 'Walnut'][n % 5]} St`;
  const address = { line1: street, line2: `Apt ${Math.floor(n / 9900) + 1}`, city: 'Springfield', state: 'IL', postalCode: '62701', country: 'US' };
  return {
    lines: [{ sku, quantity: 1 }],
    purchaser: { firstName: 'Bench', lastName: `Shopper${n}`, email: `shopper.${n}.${randomUUID().slice(0, 8)}@example.com`, phone: '202-555-0100' },
    billingAddress: address,
    shipments: [{ address }],
    payment: { type: 'card', card: { number: '4242 4242 4242 4242', expMonth: 12, expYear: new Date().getUTCFullYear() + 2, cvv: '123', nameOnCard: 'Bench Shopper' } },
    attestation: { termsAccepted: true, ageConfirmed: true },
  };
}
