import { randomBytes } from 'node:crypto';
import { TOTP, URI } from 'otpauth';
import type { StaffRole } from '../../api/staff/permissions.ts';
import { api } from './http.ts';
import type { TestContext } from './infra.ts';

/**
 * Staff accounts for integration tests: create a user of a role through the staff service, and log
 * in over HTTP with a TOTP code computed from the enrolment URI (admin and auditor need one).
 * A TOTP code is accepted once, so `loginStaff` picks a time step not used yet within the
 * ±1-step window; log a TOTP user in at most three times per 30 s of the test clock.
 */
export interface TestStaffUser {
  id: string;
  username: string;
  password: string;
  role: StaffRole;
  totpUri?: string;
}

export async function createStaffUser(ctx: TestContext, role: StaffRole, overrides: Partial<{ username: string; password: string }> = {}): Promise<TestStaffUser> {
  const username = overrides.username ?? `${role.replace(/_/g, '')}-${randomBytes(4).toString('hex')}`;
  const password = overrides.password ?? `pw-${randomBytes(9).toString('base64url')}`;
  const created = await ctx.services.staff.createUser(
    { username, displayName: `Test ${role}`, email: `${username}@staff.example.com`, role, password },
    { type: 'system', component: 'test' },
  );
  return { id: created.user.id, username, password, role, ...(created.totpUri ? { totpUri: created.totpUri } : {}) };
}

const usedSteps = new Map<string, number>();

/** A TOTP code for `uri` at `at` (ms), optionally `stepOffset` periods away. */
export function totpCode(uri: string, at: number, stepOffset = 0): string {
  const otp = URI.parse(uri) as TOTP;
  return otp.generate({ timestamp: at + stepOffset * otp.period * 1000 });
}

/** A code the server has not seen for this user yet (it refuses replays of a step). */
export function freshTotpCode(user: Pick<TestStaffUser, 'id' | 'totpUri'>, at: number): string | undefined {
  if (!user.totpUri) return undefined;
  const otp = URI.parse(user.totpUri) as TOTP;
  const current = otp.counter({ timestamp: at });
  const last = usedSteps.get(`${user.id}:${user.totpUri}`) ?? -Infinity;
  for (const offset of [-1, 0, 1]) {
    if (current + offset > last) {
      usedSteps.set(`${user.id}:${user.totpUri}`, current + offset);
      return totpCode(user.totpUri, at, offset);
    }
  }
  throw new Error(`no unused TOTP step left for ${user.id} at ${new Date(at).toISOString()}; advance the clock`);
}

export async function loginStaff(ctx: TestContext, user: TestStaffUser, at = Date.now()): Promise<string> {
  const totpCode = freshTotpCode(user, at);
  const response = await api(ctx.baseUrl, 'POST', '/api/staff/login', {
    body: { username: user.username, password: user.password, ...(totpCode ? { totpCode } : {}) },
  });
  if (response.status !== 200) throw new Error(`login of ${user.role} ${user.username} failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.token as string;
}

/** A movable clock for createTestContext({ clock }). */
export function movableClock(start = Date.now()) {
  let now = start;
  return {
    clock: () => new Date(now),
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  };
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
