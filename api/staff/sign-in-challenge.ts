import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { SignInStep } from './schema.ts';

/**
 * The one-time step between a correct password and a session, when the account still has to set
 * its own password (the admin's was a one-time password) or enrol its own second factor.
 *
 * Separation of duties: an administrator creates or resets an account with a one-time password and
 * never sees a TOTP secret. The person signing in proves the one-time password, gets a challenge
 * (and, when enrolling, a fresh TOTP secret shown only in that response), and completes it with a
 * password of their own and a code from their authenticator. Only then is a session opened.
 *
 * The challenge lives in Redis under a hash of its token, holds the TOTP secret sealed to the user,
 * and a fingerprint of the password hash it was issued against: an admin reset in between makes it
 * useless. It allows a few wrong codes and is taken (deleted) atomically when completed.
 */
export interface SignInChallenge {
  staffUserId: string;
  steps: SignInStep[];
  /** The TOTP secret being enrolled, sealed to the user (totp.ts); absent without enrolment. */
  totpSealed?: string;
  /** sha256 of the user's password hash when the challenge was issued. */
  credentialFingerprint: string;
  expiresAt: Date;
}

export const CHALLENGE_TTL_MS = 10 * 60_000;
export const CHALLENGE_MAX_FAILURES = 5;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const credentialFingerprint = (passwordHash: string) => createHash('sha256').update(`staff-credential-v1:${passwordHash}`).digest('hex');

export interface SignInChallenges {
  issue(challenge: Omit<SignInChallenge, 'expiresAt'>, now: Date): Promise<{ token: string; expiresAt: Date }>;
  /** The challenge, if it exists and has not expired by the app clock. */
  peek(token: string, now: Date): Promise<SignInChallenge | undefined>;
  /** Counts a wrong answer; the challenge is gone after CHALLENGE_MAX_FAILURES. Returns attempts left. */
  fail(token: string): Promise<number>;
  /** Removes the challenge; true only for the one caller that removed it. */
  take(token: string): Promise<boolean>;
}

// Counts a failure and drops the challenge at the limit, in one step (parallel wrong codes cannot overshoot).
const FAIL = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if n >= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return 0 end
return tonumber(ARGV[1]) - n`;

export function createSignInChallenges(deps: { redis: Redis; prefix: string }): SignInChallenges {
  const keyOf = (token: string) => `${deps.prefix}:staff:sign-in-challenge:${createHash('sha256').update(token).digest('hex')}`;
  return {
    async issue(challenge, now) {
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now.getTime() + CHALLENGE_TTL_MS);
      const key = keyOf(token);
      await deps.redis
        .multi()
        .hset(key, {
          staffUserId: challenge.staffUserId,
          steps: challenge.steps.join(','),
          totpSealed: challenge.totpSealed ?? '',
          credentialFingerprint: challenge.credentialFingerprint,
          expiresAt: String(expiresAt.getTime()),
          failures: '0',
        })
        // The key's own expiry only collects garbage; expiresAt (app clock) decides.
        .pexpire(key, CHALLENGE_TTL_MS + 60_000)
        .exec();
      return { token, expiresAt };
    },
    async peek(token, now) {
      if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return undefined;
      const stored = await deps.redis.hgetall(keyOf(token));
      if (!stored.staffUserId || !stored.expiresAt) return undefined;
      const expiresAt = new Date(Number(stored.expiresAt));
      if (expiresAt <= now) return undefined;
      return {
        staffUserId: stored.staffUserId,
        steps: (stored.steps ?? '').split(',').filter(Boolean) as SignInStep[],
        ...(stored.totpSealed ? { totpSealed: stored.totpSealed } : {}),
        credentialFingerprint: stored.credentialFingerprint ?? '',
        expiresAt,
      };
    },
    async fail(token) {
      return (await deps.redis.eval(FAIL, 1, keyOf(token), String(CHALLENGE_MAX_FAILURES))) as number;
    },
    async take(token) {
      return (await deps.redis.del(keyOf(token))) === 1;
    },
  };
}
