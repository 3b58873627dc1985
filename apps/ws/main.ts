import { createServer, type Server } from 'node:http';
import express from 'express';
import { attachConsoleSockets } from '../../agent-console/server.ts';
import { createHealthRouter } from '../health.ts';
import { boot, closeServer, listen, onShutdown, type Booted, type ShutdownStep } from '../process.ts';

/**
 * `mintdesk ws`: the agent console's real-time process.
 *
 *   connects to  MongoDB (staff sessions, audit) and Redis (the domain event stream) (apps/runtime.ts)
 *   mounts       socket.io at /socket.io with the console namespaces (agent-console/server.ts),
 *                /healthz and /readyz; listens on WS_PORT
 *   starts       following the domain event stream and forwarding it to the sockets allowed to see
 *                it. It consumes events and never enqueues work.
 *
 * Behind a reverse proxy, /socket.io goes to this process and everything else to `mintdesk api`.
 */
export async function main(): Promise<void> {
  const booted = await boot('mintdesk-ws');
  const server = createServer(express().disable('x-powered-by').use(createHealthRouter(booted.runtime.readiness)));
  const sockets = attachSockets(booted, server);
  onShutdown(booted, [sockets, { name: 'http', run: () => closeServer(server) }]);
  const port = await listen(server, booted.config.ws.port);
  booted.logger.info({ port }, 'console sockets listening');
}

/** The console's sockets on an HTTP server: this process's own, or the API's in `mintdesk start`. */
export function attachSockets(booted: Booted, server: Server): ShutdownStep {
  const sockets = attachConsoleSockets(server, booted.runtime.services);
  return { name: 'sockets', run: () => sockets.close() };
}
