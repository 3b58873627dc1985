import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { runScenario, type ScenarioResult, type ScenarioSpec } from './callers.ts';

/**
 * The callers' own thread. The app under test and the load generator share the process (as in
 * the checkout benchmark) but not an event loop: a webhook answer that is ready must not wait for
 * a thousand simulated callers' signing and TwiML parsing before its latency is read, which would
 * charge client work to the server. They still share the machine's cores.
 */

const ROLE = 'mintdesk-ivr-bench-callers';

export interface CallerThread {
  run(spec: ScenarioSpec): Promise<ScenarioResult>;
  close(): Promise<void>;
}

export function startCallerThread(): CallerThread {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: ROLE } });
  let pending: { resolve: (result: ScenarioResult) => void; reject: (error: Error) => void } | undefined;
  const settle = (outcome: { result?: ScenarioResult; error?: string }) => {
    const waiting = pending;
    pending = undefined;
    if (!waiting) return;
    if (outcome.result) waiting.resolve(outcome.result);
    else waiting.reject(new Error(`caller thread: ${outcome.error ?? 'stopped'}`));
  };
  worker.on('message', (message: { result?: ScenarioResult; error?: string }) => settle(message));
  worker.on('error', (error) => settle({ error: error.message }));
  worker.on('exit', (code) => settle({ error: `exited with code ${code}` }));
  return {
    run(spec) {
      if (pending) return Promise.reject(new Error('caller thread: one scenario at a time'));
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        worker.postMessage(spec);
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) {
  parentPort!.on('message', (spec: ScenarioSpec) => {
    runScenario(spec).then(
      (result) => parentPort!.postMessage({ result }),
      (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
}
