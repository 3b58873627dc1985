import { computed, signal } from '@preact/signals';
import { SUSPENSION_REASONS, type LoginResult, type StaffUserView } from '../../../api/staff/schema.ts';
import { permissionsOf, roleHas, type Permission } from '../../../api/staff/permissions.ts';
import { HttpError, requestJson } from '../lib/http.ts';

/**
 * The signed-in staff session. The token lives in this tab's sessionStorage only (not shared with
 * other tabs, gone when the tab closes) so a reload keeps the session and nothing else can read it
 * under the console's Content-Security-Policy. The permission matrix (api/staff/permissions.ts) is
 * the one source of what the screens show; the server refuses the rest.
 */

export interface Session {
  token: string;
  user: StaffUserView;
  expiresAt: string;
  idleTimeoutMinutes: number;
}

interface MeView {
  user: StaffUserView;
  permissions: Permission[];
  session: { id: string; createdAt: string; expiresAt: string; idleTimeoutMinutes: number };
}

const STORAGE_KEY = 'mintdesk.console.session';

export const session = signal<Session | null>(null);
/** Why the last session ended, for the sign-in screen ("you were signed out after 15 idle minutes"). */
export const endedReason = signal<string | null>(null);
/** When the server last counted this session as active (ms); the idle timeout runs from here. */
export const lastTouch = signal(0);

export const role = computed(() => session.value?.user.role ?? null);
export const permissions = computed(() => (session.value ? permissionsOf(session.value.user.role) : []));

export function can(permission: Permission): boolean {
  const current = session.value;
  return current ? roleHas(current.user.role, permission) : false;
}

function store(value: Session | null) {
  if (value) sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token: value.token }));
  else sessionStorage.removeItem(STORAGE_KEY);
}

export async function signIn(input: { username: string; password: string; totpCode?: string }): Promise<void> {
  const result = await requestJson<LoginResult>('POST', '/api/staff/login', { body: input });
  const next: Session = { token: result.token, user: result.user, expiresAt: result.expiresAt, idleTimeoutMinutes: result.idleTimeoutMinutes };
  store(next);
  lastTouch.value = Date.now();
  endedReason.value = null;
  session.value = next;
}

/** Restores the tab's session after a reload, if it is still live. */
export async function restoreSession(): Promise<void> {
  const saved = sessionStorage.getItem(STORAGE_KEY);
  if (!saved) return;
  let token: string | undefined;
  try {
    token = (JSON.parse(saved) as { token?: string }).token;
  } catch {
    token = undefined;
  }
  if (!token) return store(null);
  try {
    const me = await requestJson<MeView>('GET', '/api/staff/me', { token });
    lastTouch.value = Date.now();
    session.value = { token, user: me.user, expiresAt: me.session.expiresAt, idleTimeoutMinutes: me.session.idleTimeoutMinutes };
  } catch (error) {
    store(null);
    if (error instanceof HttpError && error.status === 401) endedReason.value = 'Your session has ended. Sign in again.';
  }
}

const REASONS: Record<string, string> = {
  idle: 'You were signed out after a period without activity.',
  session_expired: 'Your session has ended. Sign in again.',
  role_changed: 'Your role changed. Sign in again to continue.',
  sessions_revoked: 'An administrator ended your session.',
  password_reset: 'An administrator reset your password.',
  signed_out: 'You signed out.',
  ...Object.fromEntries(SUSPENSION_REASONS.map((reason) => [reason, 'Your account was suspended. Ask an administrator.'])),
};

/**
 * Ends the session in this tab at once: the screens unmount (nothing of the last user stays on
 * screen), sockets close (they watch `session`), the token is forgotten.
 */
export function endSession(reason: string): void {
  store(null);
  endedReason.value = REASONS[reason] ?? REASONS.session_expired!;
  session.value = null;
}

export async function signOut(): Promise<void> {
  const current = session.value;
  endSession('signed_out');
  if (current) await requestJson('POST', '/api/staff/logout', { token: current.token }).catch(() => undefined);
}

/** An authenticated API call; a 401 ends the session on screen. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const current = session.value;
  if (!current) throw new HttpError(401, 'staff.unauthenticated', 'Staff sign-in required.');
  try {
    const result = await requestJson<T>(method, path, { token: current.token, ...(body === undefined ? {} : { body }) });
    lastTouch.value = Date.now();
    return result;
  } catch (error) {
    if (error instanceof HttpError && error.status === 401 && session.value === current) endSession('session_expired');
    throw error;
  }
}

/** Counts as activity on the server (the staff guard touches the session), e.g. "stay signed in". */
export async function touchSession(): Promise<void> {
  const me = await api<MeView>('GET', '/api/staff/me');
  if (session.value) session.value = { ...session.value, user: me.user, expiresAt: me.session.expiresAt };
}
