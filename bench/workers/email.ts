import { performance } from 'node:perf_hooks';
import type { Transporter } from 'nodemailer';
import type { WorkerRuntime } from '../../workers/runner.ts';
import { createEmailWorker } from '../../workers/email/worker.ts';

export interface ThroughputResult {
  count: number;
  sent: number;
  failed: number;
  seconds: number;
  emailsPerSecond: number;
}

/**
 * Queues `count` chat-transcript emails (the prepared-content path: one log insert
 * and one job each), then starts a worker and times it until every job has finished. The clock
 * covers claim, render, SMTP to the configured server (the embedded one in development) and marking
 * the log: the real per-email cost. Run it against a runtime of its own (a unique prefix and
 * database), since it starts its own worker on the `email` queue.
 */
export async function measureEmailThroughput(
  runtime: Pick<WorkerRuntime, 'services' | 'bullConnection'>,
  options: { count?: number; ratePerSecond?: number; concurrency?: number; transport?: Transporter; recipientDomain?: string } = {},
): Promise<ThroughputResult> {
  const count = options.count ?? 500;
  const domain = options.recipientDomain ?? 'bench.mintdesk.test';
  const eventIds = new Set<string>();
  for (let i = 0; i < count; i += 1) {
    const { eventId } = await runtime.services.email.sendChatTranscript({
      to: `bench-${i}@${domain}`,
      lines: [
        { from: 'customer', text: `Question number ${i} about a proof set.` },
        { from: 'agent', name: 'Bench', text: 'Thank you for asking; here is the answer.' },
      ],
    });
    eventIds.add(eventId);
  }
  const running = createEmailWorker({
    services: runtime.services,
    connection: runtime.bullConnection,
    ratePerSecond: options.ratePerSecond ?? 100_000,
    concurrency: options.concurrency ?? 20,
    autorun: false,
    ...(options.transport ? { transport: options.transport } : {}),
  });
  let sent = 0;
  let failed = 0;
  const finished = new Promise<void>((resolve) => {
    const settle = () => {
      if (sent + failed >= count) resolve();
    };
    running.worker.on('completed', (job) => {
      if (eventIds.has((job.data as { eventId: string }).eventId)) sent += 1;
      settle();
    });
    running.worker.on('failed', (job) => {
      if (job && eventIds.has((job.data as { eventId: string }).eventId) && job.attemptsMade >= (job.opts.attempts ?? 1)) failed += 1;
      settle();
    });
  });
  try {
    const started = performance.now();
    void running.worker.run().catch(() => undefined);
    await finished;
    const seconds = (performance.now() - started) / 1000;
    return { count, sent, failed, seconds, emailsPerSecond: sent / seconds };
  } finally {
    await running.close();
  }
}
