import { expect } from 'chai';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../platform/config.ts';
import { resolveSecrets } from '../../platform/secrets.ts';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
};

describe('config: environment validation', () => {
  it('starts with no configuration at all (embedded defaults)', () => {
    const config = loadConfig({});
    expect(config.http.port).to.equal(3000);
    expect(config.mongo.uri).to.equal(undefined);
    expect(config.staff).to.deep.equal({ idleTimeoutMinutes: 15, maxSessionHours: 12, lockoutThreshold: 6, lockoutMinutes: 30 });
    expect(Object.isFrozen(config) && Object.isFrozen(config.staff)).to.equal(true);
  });

  const cases: [string, Record<string, string>, string, RegExp][] = [
    ['a non-numeric port', { PORT: 'eighty' }, 'PORT', /number/i],
    ['a port out of range', { PORT: '70000' }, 'PORT', /65535/],
    ['a Mongo URL of the wrong scheme', { MONGODB_URI: 'http://db' }, 'MONGODB_URI', /mongodb:\/\//],
    ['a Redis URL that is not a URL', { REDIS_URL: 'localhost' }, 'REDIS_URL', /redis:\/\//],
    ['a bad S3 bucket name', { S3_BUCKET: 'Bad_Bucket' }, 'S3_BUCKET', /bucket/i],
    ['an S3 endpoint without credentials', { S3_ENDPOINT: 'http://minio:9000' }, 'S3_ACCESS_KEY_ID', /S3_ENDPOINT/],
    ['one Twilio credential without the other', { TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}` }, 'TWILIO_AUTH_TOKEN', /both empty/],
    ['a malformed Twilio SID', { TWILIO_ACCOUNT_SID: 'nope', TWILIO_AUTH_TOKEN: 'x'.repeat(32) }, 'TWILIO_ACCOUNT_SID', /AC followed by 32 hex/],
    ['a short secret', { MINTDESK_SECRET: 'short' }, 'MINTDESK_SECRET', /32 characters/],
    ['vault keys without the active id', { VAULT_MASTER_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}` }, 'VAULT_ACTIVE_KEY_ID', /required/],
    ['an active key id not in the keyring', { VAULT_MASTER_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`, VAULT_ACTIVE_KEY_ID: 'k2' }, 'VAULT_ACTIVE_KEY_ID', /k1/],
    ['audit retention under a year', { AUDIT_RETENTION_MONTHS: '6' }, 'AUDIT_RETENTION_MONTHS', /12 months/],
    ['a boolean that is not one', { TRUST_PROXY: 'maybe' }, 'TRUST_PROXY', /true or false/],
    ['production without its secrets', { NODE_ENV: 'production' }, 'MINTDESK_SECRET', /production/],
    ['production without the audit key', { NODE_ENV: 'production' }, 'AUDIT_HMAC_KEY', /production/],
    ['a short audit key', { AUDIT_HMAC_KEY: 'short' }, 'AUDIT_HMAC_KEY', /32 characters/],
    ['an audit key that is the app secret', { MINTDESK_SECRET: 'k'.repeat(40), AUDIT_HMAC_KEY: 'k'.repeat(40) }, 'AUDIT_HMAC_KEY', /differ from MINTDESK_SECRET/],
    ['an unknown object-lock mode', { AUDIT_CHECKPOINT_LOCK_MODE: 'forever' }, 'AUDIT_CHECKPOINT_LOCK_MODE', /compliance/],
  ];
  for (const [label, env, variable, message] of cases) {
    it(`names ${variable} for ${label}`, () => {
      const problem = problemsOf(env).find((p) => p.variable === variable);
      expect(problem, JSON.stringify(problemsOf(env))).to.not.equal(undefined);
      expect(problem!.message).to.match(message);
    });
  }

  it('lists every problem at once, one line per variable', () => {
    try {
      loadConfig({ PORT: 'x', REDIS_URL: 'y' });
      expect.fail('should throw');
    } catch (error) {
      expect((error as Error).message).to.match(/PORT: .*\n.*REDIS_URL: /);
    }
  });

  it('generates development secrets once, and adds the audit key to a secrets file written before it existed', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mintdesk-secrets-'));
    const config = loadConfig({ MINTDESK_DATA_DIR: dataDir });
    const older = { appSecret: 'a'.repeat(43), vaultMasterKeys: `dev1:${Buffer.alloc(32, 7).toString('base64')}`, vaultActiveKeyId: 'dev1' };
    writeFileSync(join(dataDir, 'secrets.json'), JSON.stringify(older));
    const first = resolveSecrets(config, { persistent: true });
    expect(first).to.include(older);
    expect(first.auditHmacKey).to.have.length.greaterThanOrEqual(32).and.not.equal(first.appSecret);
    expect(JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8'))).to.deep.equal(first);
    expect(statSync(join(dataDir, 'secrets.json')).mode & 0o777).to.equal(0o600);
    expect(resolveSecrets(config, { persistent: true })).to.deep.equal(first);
    // The environment wins over the file.
    const fromEnv = resolveSecrets(loadConfig({ MINTDESK_DATA_DIR: dataDir, AUDIT_HMAC_KEY: 'e'.repeat(40) }), { persistent: true });
    expect(fromEnv.auditHmacKey).to.equal('e'.repeat(40));
  });
});
