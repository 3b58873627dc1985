import { z } from 'zod';
import { findUnsafeText, INVALID_CHARACTER, INVALID_CHARACTER_MESSAGE } from './safe-text.ts';

/**
 * The one error family of mintdesk. Every failure a user can see is an AppError with a stable
 * `code` (clients and tests key on it) and a `kind` that decides how each edge renders it:
 * HTTP status (api/http/errors.ts), TwiML apology (ivr/errors.ts), socket ack (agent-console/acks.ts).
 * Anything that is not an AppError is treated as internal and never shown verbatim.
 */
export type ErrorKind =
  | 'validation' // the input is malformed (400)
  | 'unauthenticated' // who you are is unknown or the session ended (401)
  | 'forbidden' // you are known but may not do this (403)
  | 'not_found' // no such resource, or not yours (404: never reveal existence)
  | 'conflict' // state or idempotency conflict (409)
  | 'rule' // well-formed but breaks a business rule: limit reached, sold out, illegal transition (422)
  | 'payment' // the card was declined or failed checks (402)
  | 'rate_limited' // too many attempts (429)
  | 'unavailable' // a dependency is down; retry later (503)
  | 'internal'; // a bug (500)

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `shipping.0.address.zip`. */
  path: string;
  /** Stable machine code, e.g. `required`, `invalid_type`, `too_small`, `unrecognized_key`. */
  code: string;
  message: string;
}

export interface AppErrorOptions {
  fields?: FieldIssue[];
  /** Safe, non-personal details a client may act on (e.g. `{ retryAfterSeconds: 30 }`). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly fields?: FieldIssue[];
  readonly details?: Record<string, unknown>;

  constructor(kind: ErrorKind, code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.code = code;
    if (options.fields) this.fields = options.fields;
    if (options.details) this.details = options.details;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, fields: FieldIssue[] = [], code = 'validation_failed') {
    super('validation', code, message, { fields });
  }
}
export class AuthenticationError extends AppError {
  constructor(code = 'unauthenticated', message = 'Sign in to continue.') {
    super('unauthenticated', code, message);
  }
}
export class ForbiddenError extends AppError {
  constructor(code = 'forbidden', message = 'You do not have permission to do that.') {
    super('forbidden', code, message);
  }
}
export class NotFoundError extends AppError {
  constructor(resource: string, code = `${resource}.not_found`, message = `No such ${resource}.`) {
    super('not_found', code, message);
  }
}
export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super('conflict', code, message, details ? { details } : {});
  }
}
export class BusinessRuleError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super('rule', code, message, details ? { details } : {});
  }
}
export class PaymentError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super('payment', code, message, details ? { details } : {});
  }
}
export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, code = 'rate_limited', message = 'Too many attempts; try again later.') {
    super('rate_limited', code, message, { details: { retryAfterSeconds } });
  }
}
export class ServiceUnavailableError extends AppError {
  constructor(code: string, message: string, cause?: unknown) {
    super('unavailable', code, message, cause === undefined ? {} : { cause });
  }
}

/** The value at `path` in the input, or undefined when any step is missing. */
function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Turns zod issues into field issues with stable codes and dotted paths. With the input at hand,
 * an absent field is reported as `required` whatever its schema (enum, literal, union...).
 */
export function fieldIssuesFromZod(error: z.ZodError, input?: unknown): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: base ? `${base}.${key}` : key,
        code: 'unrecognized_key',
        message: `Unknown field "${key}".`,
      }));
    }
    const missing =
      (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) ||
      (input !== undefined && issue.path.length > 0 && issue.code !== 'custom' && valueAt(input, issue.path) === undefined);
    // A refinement may name its own stable code (`params: { code }`), e.g. input.card_number_in_text.
    const ownCode = issue.code === 'custom' && typeof issue.params?.code === 'string' ? (issue.params.code as string) : undefined;
    if (ownCode) return [{ path: base, code: ownCode, message: issue.message }];
    return [{ path: base, code: missing ? 'required' : issue.code, message: missing ? 'This field is required.' : issue.message }];
  });
}

/**
 * Field codes under `input.` (card number typed into text, unreadable characters) say what is wrong
 * with the request as a whole, so the first one becomes the error's code and message too: a client
 * can key on it without searching the field list.
 */
export function requestLevelIssue(fields: readonly FieldIssue[]): FieldIssue | undefined {
  return fields.find((field) => field.code.startsWith('input.'));
}

export function validationErrorFromZod(error: z.ZodError, message = 'Some fields are missing or invalid.', input?: unknown): ValidationError {
  const fields = fieldIssuesFromZod(error, input);
  const requestLevel = requestLevelIssue(fields);
  if (requestLevel) return new ValidationError(requestLevel.message, fields, requestLevel.code);
  return new ValidationError(message, fields);
}

/** The refusal of a NUL or an unpaired surrogate (platform/safe-text.ts): 400 `input.invalid_character`, naming where it was. */
export function invalidCharacterError(path: string): ValidationError {
  return new ValidationError(INVALID_CHARACTER_MESSAGE, [{ path, code: INVALID_CHARACTER, message: INVALID_CHARACTER_MESSAGE }], INVALID_CHARACTER);
}

/** Throws `invalidCharacterError` for the first unsafe string in `input`, its path under `prefix`. */
export function refuseUnsafeText(input: unknown, prefix = ''): void {
  const path = findUnsafeText(input);
  if (path === undefined) return;
  throw invalidCharacterError(prefix && path ? `${prefix}.${path}` : prefix || path);
}

/**
 * Parses `input` with `schema`, throwing a ValidationError that names each bad field. Every string
 * in it is checked first for characters no store can keep (NUL, unpaired surrogates), whatever the schema.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, message?: string): z.infer<S> {
  refuseUnsafeText(input);
  const result = schema.safeParse(input);
  if (!result.success) throw validationErrorFromZod(result.error, message, input);
  return result.data;
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
