import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_IVR_CONFIG } from '../../api/ivr/defaults.ts';
import { twimlForError } from '../../ivr/errors.ts';
import { CALL_SCRIPTS } from './call-scripts.ts';
import { cpuBetween, sampleCpu, type CpuSample } from '../lib/cpu.ts';
import { percentile } from '../lib/http.ts';
import { describeInfrastructure, startBenchRuntime } from '../lib/runtime.ts';
import { formatNumber, printTable, type Cell } from '../lib/table.ts';
import { traceRoundTrips } from '../checkout/profile.ts';
import { startCallerThread } from './caller-thread.ts';
import { mergeResults, type ScenarioResult, type ScenarioSpec } from './callers.ts';
import { ferretStorage, threadCpu } from './process-facts.ts';
import { attributeRoundTrips, captureLoggedProblems, probeServer, type LoggedProblems, type ServerSnapshot } from './server-probe.ts';
import { openAroundTheClock, placeOrdersThroughCheckout } from './setup.ts';
import { startStaticTwiml } from './static-twiml.ts';

/**
 * `npm run bench:ivr`: the IVR's Twilio webhooks driven by simulated calls through the real menu
 * paths (ivr/load.ts: signed requests, order status with orders placed through the checkout,
 * Spanish and English, keys and speech, TTY, the queue to a rep), beside a static-TwiML express
 * endpoint called by the same simulated callers from the same process. Targets from issue 5:
 *
 *   (a) saturation: webhook requests/s through the real paths at least half the static endpoint's,
 *       both with the same number of callers in flight and no pauses;
 *   (b) 1,000 concurrent calls whose callers pause 2-4 s before each action: p99 under 20 ms, and
 *       no errors (no failed request, no failed call, no apology answered in place of a step).
 *
 * Latency is what the simulated Twilio measured: request sent to answer read, over loopback. The
 * callers run in a thread of their own (caller-thread.ts). Per-step server times, the event-loop
 * delay and CPU by process say where time went; --profile adds Mongo and Redis round trips per
 * webhook from one call of each script run alone. For a CPU profile run it under
 * `node --cpu-prof bench/ivr/run.ts`.
 *
 * Flags: --lanes 50 --seconds 15 --rounds 3 (saturation: the seconds are split into rounds of a static
 * slice then an IVR slice), --callers 1000 --paced-seconds 60 --ramp-seconds 10
 * --think-min 2000 --think-max 4000 (paced), --orders 24, --skip-saturation, --skip-paced,
 * --profile. Loopback only; every phase is bounded in time (calls under way when a window closes
 * finish their script, at most one call's length). It prints PASS or MISS and exits 0 either way.
 */

const { values: flags } = parseArgs({
  options: {
    lanes: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
    callers: { type: 'string', default: '1000' },
    'paced-seconds': { type: 'string', default: '60' },
    'ramp-seconds': { type: 'string', default: '10' },
    'think-min': { type: 'string', default: '2000' },
    'think-max': { type: 'string', default: '4000' },
    orders: { type: 'string', default: '24' },
    'skip-saturation': { type: 'boolean', default: false },
    'skip-paced': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const lanes = Number(flags.lanes);
const saturationMs = Number(flags.seconds) * 1000;
const callers = Number(flags.callers);
const pacedMs = Number(flags['paced-seconds']) * 1000;
const rampMs = Number(flags['ramp-seconds']) * 1000;
const think: [number, number] = [Number(flags['think-min']), Number(flags['think-max'])];
const TARGET_SHARE_OF_STATIC = 0.5;
const TARGET_P99_MS = 20;
const rounds = Math.max(1, Number(flags.rounds));
const SLICE_SETTLE_MS = 1500;
const REQUEST_TIMEOUT_MS = 15_000; // Twilio's
const RUN_HEADERS = ['endpoint', 'callers', 'requests/s', 'calls/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'http errors', 'failed calls', 'apologies'] as const;

const machine = () => `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
console.log(`IVR benchmark: node ${process.version}, ${cpus().length} CPUs, ${machine()}`);

const bench = await startBenchRuntime({ env: { TRUST_PROXY: 'true' }, monitorMongoCommands: flags.profile });
const { services } = bench;
const storage = ferretStorage();
console.log(`runtime: ${describeInfrastructure(bench)}${storage ? ` on ${storage}` : ''} at ${bench.baseUrl}; phone network: ${bench.runtime.phone.mode}, public base ${bench.runtime.phone.publicBaseUrl}`);
const staticEndpoint = await startStaticTwiml();
const callerThread = startCallerThread();
const probe = probeServer(bench.server, {
  // The apology's second sentence is in every apology TwiML of a call step, in either language.
  apologyMarkers: [DEFAULT_IVR_CONFIG.prompts.apologyRep.en, DEFAULT_IVR_CONFIG.prompts.apologyRep.es],
  apologyWaitBody: twimlForError({ context: 'wait', lang: null, config: DEFAULT_IVR_CONFIG, publicBaseUrl: bench.runtime.phone.publicBaseUrl }),
});

// Each scenario numbers its callers from a block of its own, so no two calls of a run share a caller id.
let nextCallerBlock = 13_020_000_000;
const takeCallers = () => {
  const first = nextCallerBlock;
  nextCallerBlock += 10_000_000;
  return first;
};

try {
  const orders = await placeOrdersThroughCheckout(services, bench.baseUrl, Number(flags.orders));
  const configVersion = await openAroundTheClock(services);
  console.log(`setup: ${orders.length} orders placed through POST /api/orders; IVR config v${configVersion} open around the clock; scripts: ${CALL_SCRIPTS.join(', ')}`);

  const ivrTarget = { kind: 'ivr' as const, publicBaseUrl: bench.runtime.phone.publicBaseUrl, connectTo: bench.baseUrl, authToken: bench.runtime.phone.authToken, orders };
  const staticTarget = { kind: 'static' as const, url: staticEndpoint.url, authToken: bench.runtime.phone.authToken, presses: 6 };

  // Warm both paths (JIT, connection pools, the config and catalog caches) outside any measurement.
  await callerThread.run(scenario('warm-up static', staticTarget, { lanes: 6, rampMs: 0, settleMs: 0, windowMs: 1500, thinkMs: [0, 0] }));
  const warm = await callerThread.run(scenario('warm-up IVR', ivrTarget, { lanes: CALL_SCRIPTS.length, rampMs: 0, settleMs: 0, windowMs: 3000, thinkMs: [0, 0] }));
  if (warm.callsCompleted === 0) throw new Error(`no IVR call completed in the warm-up: ${JSON.stringify(warm.failures)}`);

  if (!flags['skip-saturation']) {
    // Alternating slices: load from other processes on a shared machine comes and goes, and
    // should weigh on both sides of the comparison alike, not on whichever ran second.
    const slice = { lanes, rampMs: 0, settleMs: SLICE_SETTLE_MS, windowMs: saturationMs / rounds, thinkMs: [0, 0] as [number, number] };
    const staticSlices: Measured[] = [];
    const ivrSlices: Measured[] = [];
    probe.reset();
    const logged = captureLoggedProblems(services.core.logger);
    for (let round = 0; round < rounds; round += 1) {
      staticSlices.push(await measured(() => callerThread.run(scenario('static TwiML (express)', staticTarget, slice))));
      ivrSlices.push(await measured(() => callerThread.run(scenario('IVR webhooks, real paths', ivrTarget, slice))));
    }
    const ivrServer = probe.snapshot();
    logged.stop();
    const staticRun = mergeResults('static TwiML (express)', staticSlices.map((m) => m.result));
    const ivrRun = mergeResults('IVR webhooks, real paths', ivrSlices.map((m) => m.result));

    printTable(
      `(a) throughput at saturation: ${lanes} calls in flight, no pauses; ${rounds} alternating slices of ${formatNumber(saturationMs / rounds / 1000)} s each, measured after ${SLICE_SETTLE_MS / 1000} s (${machine()})`,
      RUN_HEADERS,
      [runRow(staticRun), runRow(ivrRun, ivrServer)],
    );
    const staticRate = staticRun.windowRequests / (staticRun.windowMs / 1000);
    const ivrRate = ivrRun.windowRequests / (ivrRun.windowMs / 1000);
    const share = ivrRate / staticRate;
    const clean = errorCount(ivrRun, ivrServer) === 0;
    console.log(
      `target (a) IVR >= ${TARGET_SHARE_OF_STATIC * 100}% of the static endpoint's requests/s: ${share >= TARGET_SHARE_OF_STATIC ? 'PASS' : 'MISS'} ` +
        `(${formatNumber(ivrRate)} vs ${formatNumber(staticRate)} requests/s = ${formatNumber(share * 100)}%)${clean ? '' : '; with errors, see below'}`,
    );
    printFailures(ivrRun, ivrServer, logged);
    printSteps(`IVR webhooks at saturation, by step (server: arrival to last byte; caller: as the simulated Twilio saw it)`, ivrRun, ivrServer);
    printCpu('CPU during the static slices', staticSlices, staticRun.totalRequests, staticRun.durationMs);
    printCpu('CPU during the IVR slices', ivrSlices, ivrRun.totalRequests, ivrRun.durationMs);
  }

  if (!flags['skip-paced']) {
    probe.reset();
    const spec = scenario(`${callers} callers pausing ${think[0] / 1000}-${think[1] / 1000} s`, ivrTarget, { lanes: callers, rampMs, settleMs: rampMs, windowMs: pacedMs, thinkMs: think });
    const logged = captureLoggedProblems(services.core.logger);
    const paced = await measured(() => callerThread.run(spec));
    const server = probe.snapshot();
    logged.stop();
    const { result } = paced;
    const sorted = [...result.windowLatenciesMs].sort((a, b) => a - b);
    printTable(
      `(b) ${callers} concurrent calls, callers pausing ${think[0] / 1000}-${think[1] / 1000} s before each action: ${pacedMs / 1000} s window after a ${rampMs / 1000} s ramp (${machine()})`,
      RUN_HEADERS,
      [runRow(result, server)],
    );
    const errors = errorCount(result, server);
    const p99 = percentile(sorted, 99);
    console.log(
      `target (b) p99 < ${TARGET_P99_MS} ms with no errors: ${p99 < TARGET_P99_MS && errors === 0 ? 'PASS' : 'MISS'} ` +
        `(p50 ${formatNumber(percentile(sorted, 50))} ms, p99 ${formatNumber(p99)} ms, ${errors} errors; ${result.callsStarted} calls, ${result.totalRequests} requests, ${formatNumber(result.durationMs / 1000)} s with the drain)`,
    );
    printFailures(result, server, logged);
    printSteps('paced calls by step (server: arrival to last byte; caller: as the simulated Twilio saw it)', result, server);
    printTable('event-loop delay during the paced run (ms)', ['thread', 'p50', 'p99', 'max'], [
      ['server (API and IVR)', server.loopDelayMs.p50, server.loopDelayMs.p99, server.loopDelayMs.max],
      ['callers (simulated Twilio)', result.callerLoopDelayMs.p50, result.callerLoopDelayMs.p99, result.callerLoopDelayMs.max],
    ]);
    printCpu('CPU during the paced run', [paced], result.totalRequests, result.durationMs);
  }

  // Every call that ended must have a closed record: a status callback that failed quietly (its
  // error answer is an empty document, which looks like success) leaves one open.
  const calls = services.core.mongo.db!.collection('ivr_calls');
  const [records, open] = await Promise.all([calls.countDocuments({}), calls.countDocuments({ endedAt: null })]);
  console.log(`\ncall records: ${records}, still open after every call ended: ${open}${open === 0 ? '' : ' (status callbacks lost: an error)'}`);

  if (flags.profile) await profileRoundTrips(ivrTarget);
} finally {
  probe.stop();
  await callerThread.close();
  await staticEndpoint.close();
  await bench.shutdown();
}

// --- helpers ----------------------------------------------------------------------------------

function scenario(name: string, target: ScenarioSpec['target'], shape: Pick<ScenarioSpec, 'lanes' | 'rampMs' | 'settleMs' | 'windowMs' | 'thinkMs'> & { callsPerLane?: number }): ScenarioSpec {
  return { name, target, ...shape, firstCaller: takeCallers(), requestTimeoutMs: REQUEST_TIMEOUT_MS };
}

interface CpuWindow {
  before: CpuSample | undefined;
  after: CpuSample | undefined;
  threadsBefore: ReturnType<typeof threadCpu>;
  threadsAfter: ReturnType<typeof threadCpu>;
}

interface Measured {
  result: ScenarioResult;
  cpu: CpuWindow;
}

async function measured(run: () => Promise<ScenarioResult>): Promise<Measured> {
  const before = sampleCpu();
  const threadsBefore = threadCpu();
  const result = await run();
  return { result, cpu: { before, after: sampleCpu(), threadsBefore, threadsAfter: threadCpu() } };
}

function runRow(result: ScenarioResult, server?: ServerSnapshot): Cell[] {
  const sorted = [...result.windowLatenciesMs].sort((a, b) => a - b);
  const seconds = result.windowMs / 1000;
  const httpErrors = Object.values(result.httpErrors).reduce((a, b) => a + b, 0);
  const failed = Object.values(result.failures).reduce((a, b) => a + b.count, 0);
  const apologies = server ? Object.values(server.apologies).reduce((a, b) => a + b, 0) : null;
  return [result.name, result.lanes, result.windowRequests / seconds, result.windowCalls / seconds, percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99), sorted.at(-1), httpErrors, failed, apologies];
}

function errorCount(result: ScenarioResult, server: ServerSnapshot): number {
  const httpErrors = Object.values(result.httpErrors).reduce((a, b) => a + b, 0);
  const failed = Object.values(result.failures).reduce((a, b) => a + b.count, 0);
  return httpErrors + failed + Object.values(server.apologies).reduce((a, b) => a + b, 0);
}

function printFailures(result: ScenarioResult, server: ServerSnapshot, logged: LoggedProblems) {
  const rows: Cell[][] = [
    ...Object.entries(result.httpErrors).map(([what, count]) => [`http ${what}`, count, '']),
    ...Object.entries(result.failures)
      .sort((a, b) => b[1].count - a[1].count)
      .slice(0, 10)
      .map(([, { count, example }]) => ['failed call', count, example]),
    ...Object.entries(server.apologies).map(([path, count]) => [`apology answered on ${path}`, count, 'the step failed or ran over its budget; the caller heard the apology']),
    ...[...logged.byMessage]
      .sort((a, b) => b[1].count - a[1].count)
      .slice(0, 10)
      .map(([message, { count, example }]) => [`logged ${message}`, count, example]),
  ];
  if (rows.length) printTable(`errors in "${result.name}"`, ['what', 'count', 'example'], rows);
}

function printSteps(title: string, result: ScenarioResult, server: ServerSnapshot) {
  const rows: Cell[][] = [...server.byPath]
    .sort((a, b) => b[1].length - a[1].length)
    .map(([path, times]) => {
      const sorted = [...times].sort((a, b) => a - b);
      return [`server ${path}`, sorted.length, percentile(sorted, 50), percentile(sorted, 99), sorted.at(-1)];
    });
  for (const [purpose, times] of Object.entries(result.byPurpose)) {
    const sorted = [...times].sort((a, b) => a - b);
    rows.push([`caller ${purpose}`, sorted.length, percentile(sorted, 50), percentile(sorted, 99), sorted.at(-1)]);
  }
  printTable(title, ['step', 'requests', 'p50 ms', 'p99 ms', 'max ms'], rows);
}

function printCpu(title: string, runs: readonly Measured[], requests: number, durationMs: number) {
  if (requests === 0 || runs.some(({ cpu }) => !cpu.before || !cpu.after)) return;
  const byGroup = new Map<string, number>();
  let main = 0;
  let others = 0;
  for (const { cpu } of runs) {
    for (const { group, seconds } of cpuBetween(cpu.before!, cpu.after!)) byGroup.set(group, (byGroup.get(group) ?? 0) + seconds);
    if (cpu.threadsBefore && cpu.threadsAfter) {
      main += cpu.threadsAfter.main - cpu.threadsBefore.main;
      others += Math.max(0, cpu.threadsAfter.others - cpu.threadsBefore.others);
    }
  }
  const machineRows = ['machine busy (all cores)', 'machine capacity (all cores)'];
  const rows: Cell[][] = [...byGroup]
    .filter(([group]) => !machineRows.includes(group))
    .sort((a, b) => b[1] - a[1])
    .map(([group, seconds]) => [group, seconds, (seconds * 1000) / requests]);
  const at = rows.findIndex((row) => String(row[0]).startsWith('this process')) + 1;
  if (at > 0) rows.splice(at, 0, ['  main thread (the app: HTTP, IVR, drivers)', main, (main * 1000) / requests], ['  other threads (callers, GC, I/O)', others, (others * 1000) / requests]);
  for (const group of machineRows) rows.push([group, byGroup.get(group) ?? 0, ((byGroup.get(group) ?? 0) * 1000) / requests]);
  printTable(`${title} (${requests} requests, ${formatNumber(durationMs / 1000)} s)`, ['process', 'CPU s', 'CPU ms per request'], rows);
  const capacity = byGroup.get('machine capacity (all cores)') ?? 0;
  const elsewhere = byGroup.get('everything else') ?? 0;
  if (capacity > 0 && elsewhere / capacity > 0.1) {
    console.log(`note: other processes on this machine used ${formatNumber((elsewhere / capacity) * 100)}% of its CPU during this measurement; the figures are lower than on a quiet machine`);
  }
}

/** One call of each script, one at a time, with every Mongo and Redis command counted against its webhook. */
async function profileRoundTrips(ivrTarget: ScenarioSpec['target']) {
  const trace = traceRoundTrips({ mongo: services.core.mongo, redis: { redis: services.core.redis, bull: bench.runtime.bullConnection } });
  const attribution = attributeRoundTrips(bench.server, trace);
  probe.reset();
  const run = await callerThread.run(scenario('profile', ivrTarget, { lanes: 1, rampMs: 0, settleMs: 0, windowMs: 120_000, thinkMs: [0, 0], callsPerLane: CALL_SCRIPTS.length * 2 }));
  attribution.stop();
  trace.stop();
  const server = probe.snapshot();
  const rows: Cell[][] = [...attribution.requests]
    .sort((a, b) => b[1] - a[1])
    .map(([path, count]) => {
      const ops = attribution.operations.get(path) ?? new Map<string, number>();
      const mongo = [...ops].filter(([name]) => name.startsWith('mongo')).reduce((sum, [, n]) => sum + n, 0);
      const redis = [...ops].filter(([name]) => !name.startsWith('mongo')).reduce((sum, [, n]) => sum + n, 0);
      const detail = [...ops]
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `${name} ${formatNumber(n / count)}`)
        .join(', ');
      const sorted = [...(server.byPath.get(path) ?? [])].sort((a, b) => a - b);
      return [path, count, mongo / count, redis / count, percentile(sorted, 50), detail];
    });
  printTable(
    `round trips per webhook, one call at a time (${run.callsCompleted} calls, each script twice${attribution.overlapping ? `; ${attribution.overlapping} overlapping requests` : ''})`,
    ['step', 'requests', 'mongo', 'redis', 'server p50 ms', 'per request'],
    rows,
  );
}
