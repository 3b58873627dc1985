import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { scrubText, type Logger } from '../../platform/logger.ts';

const VALID_INCOMING_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** Gives each request an id (kept from a trusted proxy's X-Request-Id) and a child logger. */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.header('x-request-id');
    req.id = incoming && VALID_INCOMING_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    req.log = logger.child({ reqId: req.id });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // Path only: query strings can carry order numbers and emails. A path segment can be anything
      // a client typed, a card number included, and only messages are scrubbed automatically.
      req.log.debug({ method: req.method, path: scrubText(req.path), status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
