import type { FieldIssue } from '../../../platform/errors.ts';

/** The error body of the API (api/http/errors.ts), or a stand-in when there is none. */
export interface ApiError {
  code: string;
  message: string;
  fields?: FieldIssue[];
  details?: Record<string, unknown>;
  requestId?: string;
}

export type ApiResult<T> = { ok: true; status: number; data: T; headers: Headers } | { ok: false; status: number; error: ApiError; headers: Headers | null };

let sessionToken: string | null = null;
let onSessionEnded: (() => void) | null = null;

/** The signed-in customer's token, sent with every call (guests send none). */
export function setSessionToken(token: string | null): void {
  sessionToken = token;
}

/** Called when the API says the customer's session is over (expired, signed out elsewhere, account closed). */
export function whenSessionEnds(callback: () => void): void {
  onSessionEnded = callback;
}

const NETWORK_ERROR: ApiError = { code: 'network', message: 'We could not reach the store. Check your connection and try again.' };
const UNKNOWN_ERROR: ApiError = { code: 'unknown', message: 'Something went wrong on our side. Please try again.' };

export async function api<T>(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (sessionToken) headers.Authorization = `Bearer ${sessionToken}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  } catch {
    return { ok: false, status: 0, error: NETWORK_ERROR, headers: null };
  }
  let data: unknown = null;
  if (response.status !== 204) data = await response.json().catch(() => null);
  if (response.ok) return { ok: true, status: response.status, data: data as T, headers: response.headers };
  const body = (data as { error?: ApiError } | null)?.error;
  const error = body && typeof body === 'object' && typeof body.message === 'string' ? body : UNKNOWN_ERROR;
  if (response.status === 401 && sessionToken && error.code !== 'customers.invalid_credentials') onSessionEnded?.();
  return { ok: false, status: response.status, error, headers: response.headers };
}

/** A v4 UUID; `crypto.randomUUID` needs a secure context (not plain http on a LAN address), `getRandomValues` does not. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
