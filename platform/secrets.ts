import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';

export interface Secrets {
  /** HMAC key for session tokens, signed links, admission tokens and keyed hashes. */
  appSecret: string;
  /** Card vault master keys, "id:base64,...", and the id that seals new cards. */
  vaultMasterKeys: string;
  vaultActiveKeyId: string;
  /**
   * Key of the audit trail's HMACs and signed checkpoints. Never written to the database, so
   * whoever can rewrite the audit collection cannot recompute what verification checks.
   */
  auditHmacKey: string;
}

/**
 * Production brings its secrets through the environment (config refuses to start without them).
 * A development platform generates them once into the data dir so cards sealed yesterday still
 * open today; tests get fresh ones per run. A secrets file written before a secret existed gets
 * the missing one added, keeping the others.
 */
export function resolveSecrets(config: Config, options: { persistent: boolean }): Secrets {
  const fromEnv = {
    appSecret: config.secrets.appSecret,
    vaultMasterKeys: config.secrets.vaultMasterKeys,
    vaultActiveKeyId: config.secrets.vaultActiveKeyId,
    auditHmacKey: config.secrets.auditHmacKey,
  };
  let generated: Secrets | undefined;
  const generate = () =>
    (generated ??= {
      appSecret: randomBytes(32).toString('base64url'),
      vaultMasterKeys: `dev1:${randomBytes(32).toString('base64')}`,
      vaultActiveKeyId: 'dev1',
      auditHmacKey: randomBytes(32).toString('base64url'),
    });
  let stored: Partial<Secrets> = {};
  const file = join(config.dataDir, 'secrets.json');
  if (options.persistent && (!fromEnv.appSecret || !fromEnv.vaultMasterKeys || !fromEnv.auditHmacKey)) {
    if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
    const missing = (Object.keys(generate()) as (keyof Secrets)[]).filter((key) => !stored[key]);
    if (missing.length) {
      stored = { ...generate(), ...stored };
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
      chmodSync(file, 0o600);
    }
  }
  const vaultFromEnv = fromEnv.vaultMasterKeys && fromEnv.vaultActiveKeyId;
  return {
    appSecret: fromEnv.appSecret ?? stored.appSecret ?? generate().appSecret,
    vaultMasterKeys: (vaultFromEnv ? fromEnv.vaultMasterKeys : stored.vaultMasterKeys) ?? generate().vaultMasterKeys,
    vaultActiveKeyId: (vaultFromEnv ? fromEnv.vaultActiveKeyId : stored.vaultActiveKeyId) ?? generate().vaultActiveKeyId,
    auditHmacKey: fromEnv.auditHmacKey ?? stored.auditHmacKey ?? generate().auditHmacKey,
  };
}
