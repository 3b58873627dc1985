import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { attachConsoleSockets } from '../../agent-console/server.ts';
import { loadConfig } from '../../platform/config.ts';
import type { ResolvedInfrastructure } from '../../platform/embedded/index.ts';
import { createLogger } from '../../platform/logger.ts';
import { createRuntime } from '../../apps/runtime.ts';
import type { Secrets } from '../../platform/secrets.ts';

/**
 * One API process with the console's sockets, for the multi-process test: it joins the test's
 * database, Redis prefix and secrets (given in CONSOLE_NODE as JSON), listens on a free loopback
 * port, prints `{"port":N}` and runs until it is killed.
 */
interface NodeSpec {
  mongoUri: string;
  dbName: string;
  redisUrl: string;
  redisPrefix: string;
  s3: ResolvedInfrastructure['s3'];
  bucket: string;
  smtpUrl: string;
  secrets: Secrets;
  /** A fixed time (ms) for the service clock, so opening hours do not depend on the day the test runs. */
  clockMs: number;
}

const spec = JSON.parse(process.env.CONSOLE_NODE ?? '{}') as NodeSpec;
const config = loadConfig({ ...process.env, NODE_ENV: 'test', MINTDESK_DATA_DIR: '.data/test' });
const logger = createLogger({ level: 'warn', name: `console-node-${process.pid}`, destination: process.env.CONSOLE_NODE_LOGS ? process.stderr : new Writable({ write: (_c, _e, cb) => cb() }) });
const runtime = await createRuntime({
  config,
  logger,
  infrastructure: { mongoUri: spec.mongoUri, redisUrl: spec.redisUrl, s3: spec.s3, smtpUrl: spec.smtpUrl, mailbox: undefined },
  secrets: spec.secrets,
  mongoDbName: spec.dbName,
  redisPrefix: spec.redisPrefix,
  bucket: spec.bucket,
  clock: () => new Date(spec.clockMs),
});
const server = createServer(runtime.createHttpApp());
const sockets = attachConsoleSockets(server, runtime.services, { routing: { intervalMs: 200 }, refreshMs: 1000, visitorGraceMs: 60_000, agentGraceMs: 60_000 });
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));

process.on('SIGTERM', () => {
  void sockets
    .close()
    .then(() => runtime.close())
    .finally(() => process.exit(0));
});
