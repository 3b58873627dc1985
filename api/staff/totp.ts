import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/**
 * TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s steps, accepting one step either side for
 * clock drift), and sealing of the shared secrets at rest.
 *
 * Secrets are stored AES-256-GCM encrypted under a key derived (HKDF-SHA256) from the app secret,
 * with the staff user's id as additional authenticated data: a database reader learns nothing,
 * and a sealed secret copied onto another user's record does not open.
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_WINDOW = 1;
const ISSUER = 'mintdesk';
const SEAL_VERSION = 'v1';

export interface TotpSealer {
  seal(base32Secret: string, staffUserId: string): string;
  open(sealed: string, staffUserId: string): string;
}

export function createTotpSealer(appSecret: string): TotpSealer {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(appSecret, 'utf8'), Buffer.from('mintdesk'), Buffer.from('staff-totp-secret-v1'), 32));
  return {
    seal(base32Secret, staffUserId) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(staffUserId, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(base32Secret, 'utf8'), cipher.final()]);
      return [SEAL_VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join(':');
    },
    open(sealed, staffUserId) {
      const [version, iv, tag, ciphertext] = sealed.split(':');
      if (version !== SEAL_VERSION || !iv || !tag || !ciphertext) throw new Error('unrecognised sealed TOTP secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(staffUserId, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

function totpFor(base32Secret: string, username: string): TOTP {
  return new TOTP({ issuer: ISSUER, label: username, algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_SECONDS, secret: Secret.fromBase32(base32Secret) });
}

/** A fresh 160-bit secret (RFC 4226's recommended length), base32 as authenticator apps expect. */
export function generateTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app scans; shown once, when the secret is enrolled. */
export function totpUri(base32Secret: string, username: string): string {
  return totpFor(base32Secret, username).toString();
}

/**
 * Checks a code at `now`. Returns the time step the code belongs to (so the caller can refuse a
 * replay of that step or an older one), or undefined when the code is wrong.
 */
export function matchTotp(base32Secret: string, username: string, code: string, now: Date): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const totp = totpFor(base32Secret, username);
  const delta = totp.validate({ token: code, timestamp: now.getTime(), window: TOTP_WINDOW });
  if (delta === null) return undefined;
  return totp.counter({ timestamp: now.getTime() }) + delta;
}
