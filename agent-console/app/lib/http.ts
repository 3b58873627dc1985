/**
 * JSON over fetch with the API's error body (`{ error: { code, message, fields } }`) turned into
 * an HttpError. Used by the console (with the staff bearer token) and the widget (no token).
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: { path: string; code: string; message: string }[];
  constructor(status: number, code: string, message: string, fields: { path: string; code: string; message: string }[] = []) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export async function requestJson<T>(method: string, path: string, options: { body?: unknown; token?: string; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: options.body === undefined ? null : JSON.stringify(options.body), signal: options.signal ?? null, credentials: 'omit' });
  } catch {
    throw new HttpError(0, 'network', 'The server cannot be reached; check your connection.');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string; fields?: HttpError['fields'] } } | undefined)?.error;
    throw new HttpError(response.status, error?.code ?? `http_${response.status}`, error?.message ?? `The server answered ${response.status}.`, error?.fields ?? []);
  }
  return body as T;
}
