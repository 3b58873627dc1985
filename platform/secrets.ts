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
}

/**
 * Production brings its secrets through the environment (config refuses to start without them).
 * A development platform generates them once into the data dir so cards sealed yesterday still
 * open today; tests get fresh ones per run.
 */
export function resolveSecrets(config: Config, options: { persistent: boolean }): Secrets {
  const fromEnv = {
    appSecret: config.secrets.appSecret,
    vaultMasterKeys: config.secrets.vaultMasterKeys,
    vaultActiveKeyId: config.secrets.vaultActiveKeyId,
  };
  let generated: Secrets | undefined;
  const generate = () => (generated ??= { appSecret: randomBytes(32).toString('base64url'), vaultMasterKeys: `dev1:${randomBytes(32).toString('base64')}`, vaultActiveKeyId: 'dev1' });
  let stored: Partial<Secrets> = {};
  const file = join(config.dataDir, 'secrets.json');
  if (options.persistent && (!fromEnv.appSecret || !fromEnv.vaultMasterKeys)) {
    if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
    else {
      mkdirSync(config.dataDir, { recursive: true });
      writeFileSync(file, JSON.stringify(generate(), null, 2), { mode: 0o600 });
      chmodSync(file, 0o600);
      stored = generate();
    }
  }
  const vaultFromEnv = fromEnv.vaultMasterKeys && fromEnv.vaultActiveKeyId;
  return {
    appSecret: fromEnv.appSecret ?? stored.appSecret ?? generate().appSecret,
    vaultMasterKeys: (vaultFromEnv ? fromEnv.vaultMasterKeys : stored.vaultMasterKeys) ?? generate().vaultMasterKeys,
    vaultActiveKeyId: (vaultFromEnv ? fromEnv.vaultActiveKeyId : stored.vaultActiveKeyId) ?? generate().vaultActiveKeyId,
  };
}
