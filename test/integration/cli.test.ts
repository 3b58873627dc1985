import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('runs the API process against configured services, reports ready, and stops cleanly on SIGTERM', async () => {
    const { infrastructure } = await sharedInfrastructure();
    const port = await freePort();
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      PORT: String(port),
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
    const { child, output } = run(['api'], env);
    let ready = false;
    for (let attempt = 0; attempt < 120 && !ready && child.exitCode === null; attempt += 1) {
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(ready, output()).to.equal(true);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code, output()).to.equal(0);
    expect(output()).to.contain('"msg":"stopped"');
    const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(() => false, () => true);
    expect(refused).to.equal(true);
  });
});
