import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVaultService, type VaultService } from '../../api/vault/service.ts';
import { vaultCardModel } from '../../api/vault/model.ts';
import { validateCard } from '../../api/vault/cards.ts';
import { createTestContext, uniqueName, type TestContext } from '../support/infra.ts';
import { withLuhnCheckDigit } from '../support/fixtures.ts';

const BIN = join(process.cwd(), 'bin/mintdesk.js');

/** Runs `mintdesk admin rotate-vault-keys` as an operator would, against the suite's database. */
async function rotateThroughCli(ctx: TestContext, keys: string, activeKeyId: string, args: string[] = []): Promise<{ code: number; output: string }> {
  const { infrastructure } = ctx;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    MINTDESK_DATA_DIR: mkdtempSync(join(tmpdir(), 'mintdesk-rotate-')),
    MONGODB_URI: infrastructure.mongoUri,
    MONGODB_DB: ctx.dbName,
    REDIS_URL: infrastructure.redisUrl,
    REDIS_PREFIX: ctx.redisPrefix,
    S3_ENDPOINT: infrastructure.s3.endpoint!,
    S3_ACCESS_KEY_ID: infrastructure.s3.accessKeyId!,
    S3_SECRET_ACCESS_KEY: infrastructure.s3.secretAccessKey!,
    S3_BUCKET: uniqueName('rotate').replace(/_/g, '-'),
    SMTP_URL: infrastructure.smtpUrl,
    VAULT_MASTER_KEYS: keys,
    VAULT_ACTIVE_KEY_ID: activeKeyId,
  };
  const child = spawn(process.execPath, [BIN, 'admin', 'rotate-vault-keys', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, output };
}

const rewrappedCount = (output: string): number => Number(/re-wrapped (\d+) card data keys under/.exec(output)?.[1] ?? NaN);

describe('vault key rotation through the CLI', function () {
  this.timeout(120_000);
  const keyA = `A:${randomBytes(32).toString('base64')}`;
  const keyB = `B:${randomBytes(32).toString('base64')}`;
  const fingerprintSecret = randomBytes(32).toString('base64url');
  const now = new Date('2026-03-01T12:00:00Z');
  let ctx: TestContext;
  const vaultWith = (keys: string, active: string): VaultService =>
    createVaultService({ mongo: ctx.services.core.mongo, clock: () => now, masterKeys: keys, activeKeyId: active, fingerprintSecret });
  const sealed = async () => (await vaultCardModel(ctx.services.core.mongo).find({ sealed: { $ne: null } }).lean()).map((doc) => ({ token: doc._id, ...doc.sealed! }));
  const panOf = (vault: VaultService, token: string) => vault.withCardForAuthorisation(token, async (card) => card.pan);

  let serial = 0;
  async function sealCards(vault: VaultService, count: number): Promise<Map<string, string>> {
    const pans = new Map<string, string>();
    for (let index = 0; index < count; index += 1) {
      serial += 1;
      const pan = withLuhnCheckDigit(`411111${String(serial).padStart(9, '0')}`);
      const card = validateCard({ number: pan, expMonth: 12, expYear: 2030, cvv: '123' }, now);
      const summary = await vault.tokenise(card, { nameOnCard: 'Ada Lovelace', customerId: `cust_${serial}`, save: true });
      pans.set(summary.cardToken, pan);
    }
    return pans;
  }

  before(async () => {
    ctx = await createTestContext({ listen: false });
  });
  after(async () => {
    await ctx.close();
  });

  it('re-wraps every card under the new key, the old key can go, a second run is a no-op, and a partial run resumes', async () => {
    const underA = vaultWith(keyA, 'A');
    const pans = await sealCards(underA, 4);
    const before = await sealed();
    expect(before.map((card) => card.masterKeyId)).to.deep.equal(['A', 'A', 'A', 'A']);

    const first = await rotateThroughCli(ctx, `${keyA},${keyB}`, 'B');
    expect(first.code, first.output).to.equal(0);
    expect(rewrappedCount(first.output), first.output).to.equal(4);
    const after = await sealed();
    expect(after.map((card) => card.masterKeyId)).to.deep.equal(['B', 'B', 'B', 'B']);
    expect(first.output).to.contain('0 cards remain under other master keys');
    for (const card of after) {
      const old = before.find((entry) => entry.token === card.token)!;
      expect(card.wrappedKey, 'the data key is wrapped anew').not.to.equal(old.wrappedKey);
      // Re-wrapping never touches the sealed number itself.
      expect([card.iv, card.ciphertext, card.tag]).to.deep.equal([old.iv, old.ciphertext, old.tag]);
    }

    // The old key retired: every card still opens through the vault's normal path.
    const onlyB = vaultWith(keyB, 'B');
    for (const [token, pan] of pans) expect(await panOf(onlyB, token)).to.equal(pan);

    const again = await rotateThroughCli(ctx, `${keyA},${keyB}`, 'B');
    expect(again.code, again.output).to.equal(0);
    expect(rewrappedCount(again.output), again.output).to.equal(0);
    expect((await sealed()).map((card) => card.wrappedKey)).to.deep.equal(after.map((card) => card.wrappedKey));

    // An interrupted rotation: three more cards under A, a run stopped after one, then a full run.
    const more = await sealCards(underA, 3);
    const partial = await rotateThroughCli(ctx, `${keyA},${keyB}`, 'B', ['--limit', '1']);
    expect(partial.code, partial.output).to.equal(0);
    expect(rewrappedCount(partial.output), partial.output).to.equal(1);
    expect(partial.output).to.contain('2 cards remain under other master keys');
    const midway = await sealed();
    expect(midway.filter((card) => card.masterKeyId === 'A')).to.have.length(2);

    const resumed = await rotateThroughCli(ctx, `${keyA},${keyB}`, 'B');
    expect(resumed.code, resumed.output).to.equal(0);
    expect(rewrappedCount(resumed.output), resumed.output).to.equal(2);
    const done = await sealed();
    expect(done.every((card) => card.masterKeyId === 'B')).to.equal(true);
    // Cards re-wrapped by the interrupted run were not wrapped again by the resumed one.
    for (const card of midway.filter((entry) => entry.masterKeyId === 'B')) {
      expect(done.find((entry) => entry.token === card.token)!.wrappedKey).to.equal(card.wrappedKey);
    }
    for (const [token, pan] of [...pans, ...more]) expect(await panOf(onlyB, token)).to.equal(pan);
  });

  it('does not claim success while a card is under a key it does not have', async () => {
    const keyC = `C:${randomBytes(32).toString('base64')}`;
    const [token] = [...(await sealCards(vaultWith(keyC, 'C'), 1)).keys()];
    const run = await rotateThroughCli(ctx, `${keyA},${keyB}`, 'B');
    expect(run.code, run.output).to.equal(1);
    expect(rewrappedCount(run.output), run.output).to.equal(0);
    expect(run.output).to.contain('could not re-wrap 1 cards under C (vault.master_key_missing)');
    expect(run.output).to.contain('1 cards remain under other master keys');
    expect((await sealed()).find((card) => card.token === token)!.masterKeyId).to.equal('C');
  });
});
