import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { entryHash, type ChainFields } from '../../api/audit/chain.ts';
import { freePort } from '../../platform/embedded/net.ts';
import { createTestContext, sharedInfrastructure, uniqueName, type TestContext } from '../support/infra.ts';

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

  describe('admin verify-audit', () => {
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestContext();
    });
    after(async () => ctx?.close());

    /** The CLI pointed at the test context's database, bucket and secrets. */
    const cliEnv = (): Record<string, string> => {
      const { infrastructure } = ctx;
      const { secrets } = ctx.services.core;
      return {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        MINTDESK_DATA_DIR: mkdtempSync(join(tmpdir(), 'mintdesk-cli-')),
        MONGODB_URI: infrastructure.mongoUri,
        MONGODB_DB: ctx.dbName,
        REDIS_URL: infrastructure.redisUrl,
        REDIS_PREFIX: ctx.redisPrefix,
        S3_ENDPOINT: infrastructure.s3.endpoint!,
        S3_ACCESS_KEY_ID: infrastructure.s3.accessKeyId!,
        S3_SECRET_ACCESS_KEY: infrastructure.s3.secretAccessKey!,
        S3_BUCKET: ctx.services.core.objectStore.bucket,
        SMTP_URL: infrastructure.smtpUrl,
        MINTDESK_SECRET: secrets.appSecret,
        VAULT_MASTER_KEYS: secrets.vaultMasterKeys,
        VAULT_ACTIVE_KEY_ID: secrets.vaultActiveKeyId,
        AUDIT_HMAC_KEY: secrets.auditHmacKey,
      };
    };
    const verify = async (env: Record<string, string>) => {
      const { child, output } = run(['admin', 'verify-audit'], env);
      const [code] = await once(child, 'exit');
      return { code: code as number, output: output() };
    };

    it('passes a clean trail, and names the first bad seq of a history rewritten in the database', async () => {
      const system = { type: 'system', component: 'cli-test' } as const;
      for (let i = 0; i < 6; i += 1) await ctx.services.audit.record({ actor: system, action: 'staff.login', resource: { type: 'staff_user', id: `u${i}` }, outcome: i === 2 ? 'failure' : 'success' });
      expect((await ctx.services.audit.checkpoint()).written).to.equal(true);
      const env = cliEnv();

      const clean = await verify(env);
      expect(clean.code, clean.output).to.equal(0);
      expect(clean.output).to.match(/"ok": true/).and.match(/"latestSeq": 6/);

      // Turn the failed logon (seq 3) into a success and re-hash every entry after it.
      const entries = ctx.services.core.mongo.collection('audit_entries');
      let prevHash = (await entries.findOne({ seq: 3 }))!.prevHash as string;
      for (const doc of await entries.find({ seq: { $gte: 3 } }).sort({ seq: 1 }).toArray()) {
        if (doc.seq === 3) doc.outcome = 'success';
        doc.prevHash = prevHash;
        doc.hash = entryHash(doc as unknown as ChainFields);
        await entries.replaceOne({ _id: doc._id }, doc);
        prevHash = doc.hash as string;
      }
      const tampered = await verify(env);
      expect(tampered.code, tampered.output).to.equal(1);
      expect(tampered.output).to.contain('first bad seq 3 (mac_mismatch)');

      // With another key nothing is vouched for: the checkpoint's signature fails first.
      const wrongKey = await verify({ ...env, AUDIT_HMAC_KEY: 'x'.repeat(40) });
      expect(wrongKey.code).to.equal(1);
      expect(wrongKey.output).to.contain('first bad seq 6 (checkpoint_invalid)');
    });
  });
});
