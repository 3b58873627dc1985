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

/** Errors thrown by express itself (oversized or malformed JSON) become AppErrors too. */
export function normaliseError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const status = (error as { status?: number; type?: string })?.status;
  const type = (error as { type?: string })?.type;
  if (type === 'entity.too.large' || status === 413) return new AppError('validation', 'request.too_large', 'The request body is too large.');
  if (type === 'entity.parse.failed') return new ValidationError('The request body is not valid JSON.', [], 'request.malformed_json');
  if (status === 415 || type === 'encoding.unsupported' || type === 'charset.unsupported') return new ValidationError('Unsupported request encoding.', [], 'request.unsupported_encoding');
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
