import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, type ErrorKind, isAppError, NotFoundError, ValidationError } from '../../platform/errors.ts';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  validation: 400,
  unauthenticated: 401,
  payment: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rule: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

export interface ErrorBody {
  error: { code: string; message: string; fields?: { path: string; code: string; message: string }[]; details?: Record<string, unknown>; requestId?: string };
}

/** The single mapping from the error family to HTTP. Unknown errors become a generic 500. */
export function toHttpError(error: unknown, requestId?: string): { status: number; body: ErrorBody } {
  const appError = normaliseError(error);
  const body: ErrorBody = { error: { code: appError.code, message: appError.message } };
  if (appError.fields?.length) body.error.fields = appError.fields;
  if (appError.details) body.error.details = appError.details;
  if (requestId) body.error.requestId = requestId;
  return { status: STATUS_BY_KIND[appError.kind], body };
}

/**
 * Errors thrown by express itself and its body parsers (http-errors with a 4xx `status`) become
 * AppErrors too: a request we cannot read is the client's error, never a 500.
 */
export function normaliseError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const { status, type, code, name, expose } = (error ?? {}) as { status?: unknown; type?: unknown; code?: unknown; name?: unknown; expose?: unknown };
  if (type === 'entity.too.large' || status === 413) return new AppError('validation', 'request.too_large', 'The request body is too large.');
  if (type === 'entity.parse.failed') return new ValidationError('The request body is not valid JSON.', [], 'request.malformed_json');
  if (status === 415 || type === 'encoding.unsupported' || type === 'charset.unsupported') return new ValidationError('Unsupported request encoding.', [], 'request.unsupported_encoding');
  // Only http-errors (`expose`, set by body-parser) and the router's URIError: an SDK's error that
  // happens to carry a 4xx `status` (a Twilio REST failure) is still our failure, a 500.
  if (typeof status === 'number' && status >= 400 && status < 500 && (expose === true || name === 'URIError')) {
    // zlib (Z_DATA_ERROR...) and brotli (ERR__ERROR_...) failures: labelled gzip, deflate or br, but not.
    if (typeof code === 'string' && /^(Z_|ERR__)/.test(code)) {
      return new ValidationError('The request body is not compressed the way its Content-Encoding header says.', [], 'request.bad_content_encoding');
    }
    if (name === 'URIError') return new ValidationError('The address contains malformed percent-encoding.', [], 'request.malformed_url');
    if (type === 'request.aborted') return new ValidationError('The request body ended early.', [], 'request.aborted');
    return new ValidationError('The request could not be read.', [], 'request.malformed');
  }
  return new AppError('internal', 'internal_error', 'Something went wrong on our side. Please try again.');
}

export const notFoundHandler: RequestHandler = (_req, _res, next) => next(new NotFoundError('route', 'route.not_found', 'No such endpoint.'));

export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  const { status, body } = toHttpError(error, req.id);
  if (status >= 500) req.log?.error({ err: error }, 'request failed');
  else req.log?.info({ code: body.error.code, status }, 'request rejected');
  if (res.headersSent) return;
  if (status === 429 && body.error.details?.retryAfterSeconds) res.setHeader('Retry-After', String(body.error.details.retryAfterSeconds));
  res.status(status).json(body);
};
