import type { Request, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { RateLimitedError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';

// INCR and set the window's expiry atomically, so a crash between them cannot leave a key forever.
const FIXED_WINDOW = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { n, redis.call('PTTL', KEYS[1]) }`;

export interface RateLimitOptions {
  redis: Redis;
  prefix: string;
  name: string;
  limit: number;
  windowSeconds: number;
  key: (req: Request) => string;
  logger: Logger;
}

/**
 * Fixed-window limiter in Redis, shared by every API process. If Redis is unreachable it lets the
 * request through: lockout and checkout have their own durable guards, and a limiter outage must
 * not take the store down with it.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  return async (req, res, next) => {
    const key = `${options.prefix}:rl:${options.name}:${options.key(req)}`;
    try {
      const [count, ttl] = (await options.redis.eval(FIXED_WINDOW, 1, key, String(options.windowSeconds * 1000))) as [number, number];
      res.setHeader('RateLimit-Limit', String(options.limit));
      res.setHeader('RateLimit-Remaining', String(Math.max(0, options.limit - count)));
      if (count > options.limit) return next(new RateLimitedError(Math.max(1, Math.ceil(ttl / 1000))));
    } catch (error) {
      options.logger.warn({ err: (error as Error).message, limiter: options.name }, 'rate limiter unavailable; allowing request');
    }
    next();
  };
}

export const clientIp = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';
