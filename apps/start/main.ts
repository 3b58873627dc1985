import { closing, createApiServer, listenHttp, printWelcome } from '../api/main.ts';
import { boot, onShutdown } from '../process.ts';
import { attachSockets } from '../ws/main.ts';
import { runWorkers } from '../workers/main.ts';

/**
 * `mintdesk start` (`npm start`): the whole platform in one process, for one machine.
 *
 *   connects to  MongoDB, Redis, S3, SMTP, starting embedded ones where no URL is set, and the
 *                phone network (the development simulator without a Twilio account)
 *   mounts       the API process's HTTP app (apps/api/main.ts) with the console sockets of
 *                `mintdesk ws` (apps/ws/main.ts) on the same port, PORT
 *   starts       the workers of `mintdesk workers` (apps/workers/main.ts)
 */
export async function main(): Promise<void> {
  const booted = await boot('mintdesk');
  const server = createApiServer(booted);
  const sockets = attachSockets(booted, server);
  // Stop taking socket and HTTP traffic first, then let the workers finish their jobs. The handlers
  // go in before the port opens (a SIGTERM may follow the first /readyz); the shutdown reads the
  // list when the signal comes, so the workers' step counts once they have started.
  const steps = [sockets, closing(server)];
  onShutdown(booted, steps);
  const port = await listenHttp(booted, server);
  steps.push(await runWorkers(booted));
  await printWelcome(booted, port);
}
