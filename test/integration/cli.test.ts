import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { freePort } from '../../platform/embedded/net.ts';
import { sharedInfrastructure, uniqueName } from '../support/infra.ts';

const BIN = join(process.cwd(), 'bin/mintdesk.js');

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

describe('cli: the mintdesk command', function () {
  this.timeout(90_000);

  it('refuses to start on a bad variable, naming it and what it expects', async () => {
    const { child, output } = run(['api'], { PORT: 'eighty', REDIS_URL: 'localhost:6379' });
    const [code] = await once(child, 'exit');
    expect(code).to.equal(2);
    expect(output()).to.match(/PORT: .*number/i);
    expect(output()).to.match(/REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/);
  });

  /** A process's environment on the suite's servers, with a database, prefix and bucket of its own. */
  async function configuredEnv(ports: Record<string, number>): Promise<Record<string, string>> {
    const { infrastructure } = await sharedInfrastructure();
    return {
      NODE_ENV: 'test',
      ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
      MINTDESK_DATA_DIR: mkdtempSync(join(tmpdir(), 'mintdesk-cli-')),
      MONGODB_URI: infrastructure.mongoUri,
      MONGODB_DB: uniqueName('cli'),
      REDIS_URL: infrastructure.redisUrl,
      REDIS_PREFIX: `test:${uniqueName('cli')}`,
      S3_ENDPOINT: infrastructure.s3.endpoint!,
      S3_ACCESS_KEY_ID: infrastructure.s3.accessKeyId!,
      S3_SECRET_ACCESS_KEY: infrastructure.s3.secretAccessKey!,
      S3_BUCKET: uniqueName('cli').replace(/_/g, '-'),
      SMTP_URL: infrastructure.smtpUrl,
      LOG_LEVEL: 'info',
    };
  }

  async function waitUntilReady(port: number, child: ReturnType<typeof run>['child']): Promise<boolean> {
    for (let attempt = 0; attempt < 120 && child.exitCode === null; attempt += 1) {
      if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)) return true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return false;
  }

  async function stopsCleanly({ child, output }: ReturnType<typeof run>, port: number): Promise<void> {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code, output()).to.equal(0);
    expect(output()).to.contain('"msg":"stopped"');
    const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(() => false, () => true);
    expect(refused).to.equal(true);
  }

  it('runs the API process against configured services, reports ready, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const api = run(['api'], await configuredEnv({ PORT: port }));
    expect(await waitUntilReady(port, api.child), api.output()).to.equal(true);
    // The API process holds no sockets: the console's socket server is `mintdesk ws`.
    expect((await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`)).status).to.equal(404);
    await stopsCleanly(api, port);
  });

  it('runs the console socket process on WS_PORT: sockets that require a staff session, and a clean stop on SIGTERM', async () => {
    const [port, wsPort] = [await freePort(), await freePort()];
    const ws = run(['ws'], await configuredEnv({ PORT: port, WS_PORT: wsPort }));
    expect(await waitUntilReady(wsPort, ws.child), ws.output()).to.equal(true);
    expect(ws.output()).to.contain('"msg":"console sockets listening"');
    // A real socket.io server: the handshake is answered, and refused without a staff session.
    const socket = connect(`http://127.0.0.1:${wsPort}/calls`, { transports: ['websocket'], reconnection: false, auth: {} });
    const refusal = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    socket.close();
    expect(refusal.message).to.equal('Staff sign-in required.');
    // Nothing else listens: PORT is the API process's.
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).then(() => true, () => false)).to.equal(false);
    await stopsCleanly(ws, wsPort);
  });
});
