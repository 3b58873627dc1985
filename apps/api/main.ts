import { createServer, type Server } from 'node:http';
import { boot, closeServer, listen, onShutdown, type Booted, type ShutdownStep } from '../process.ts';

/**
 * `mintdesk api`: the HTTP process.
 *
 *   connects to  MongoDB, Redis, S3, SMTP (or the embedded ones) and the phone network (apps/runtime.ts)
 *   mounts       /api, /ivr (Twilio webhooks), /simulator (development), the storefront at /,
 *                /healthz and /readyz (apps/api/app.ts)
 *   starts       nothing else: it enqueues jobs for `mintdesk workers` and publishes the domain
 *                events `mintdesk ws` forwards; it holds no sockets
 */
export async function main(): Promise<void> {
  const booted = await boot('mintdesk-api');
  const server = createApiServer(booted);
  // Signal handlers go in before the port opens: a supervisor may send SIGTERM as soon as /readyz answers.
  onShutdown(booted, [closing(server)]);
  const port = await listenHttp(booted, server);
  await printWelcome(booted, port);
}

/** The HTTP server of the API app, not yet listening (`mintdesk start` attaches the sockets first). */
export function createApiServer(booted: Booted): Server {
  return createServer(booted.runtime.createHttpApp());
}

/** Listens on PORT; the port actually bound (PORT=0 picks a free one). */
export async function listenHttp(booted: Booted, server: Server): Promise<number> {
  const port = await listen(server, booted.config.http.port);
  booted.logger.info({ port, mongo: booted.infrastructure.mongoEngine }, 'HTTP listening');
  return port;
}

export function closing(server: Server): ShutdownStep {
  return { name: 'http', run: () => closeServer(server) };
}

/** What a person starting the platform wants to open next, and how to get a catalog and staff accounts. */
export async function printWelcome({ config, infrastructure, runtime }: Booted, port: number): Promise<void> {
  const base = config.http.publicBaseUrl ?? `http://localhost:${port}`;
  // A first start has nothing to sell and nobody to sign in: say how to get both.
  const catalogEmpty = await runtime.services.catalog.list({ pageSize: 1 }).then((page) => page.total === 0, () => false);
  process.stdout.write(
    [
      '',
      `  mintdesk is running (${infrastructure.mongoEngine === 'external' ? 'MongoDB' : infrastructure.mongoEngine}, Redis, S3, SMTP ready)`,
      `  storefront      ${base}/`,
      `  agent console   ${base}/console/`,
      `  phone simulator ${runtime.phoneSimulator ? `${base}/simulator/` : '(Twilio configured)'}`,
      `  API docs        ${base}/api/docs`,
      ...(catalogEmpty ? ['', '  The catalog is empty: `npm run mintdesk -- seed --demo-staff` loads the demo catalog and one staff account per role.'] : []),
      '',
    ].join('\n') + '\n',
  );
}
