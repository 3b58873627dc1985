import { Router, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/logger.ts';
import { customerPrincipal, type CustomerGuard } from '../http/auth.ts';
import { clientIp, rateLimit } from '../http/rate-limit.ts';
import { parseParams } from '../http/validate.ts';
import type { IdempotencyService } from '../idempotency/service.ts';
import { EnrollmentParams, LinkTokenParams } from './schema.ts';
import type { SubscriptionService } from './service.ts';

export const ENROLLMENT_MOUNT = '/api/customers/me/enrollments';
export const SUBSCRIPTION_LINKS_MOUNT = '/api/subscriptions/links';

export interface SubscriptionRouteDeps {
  subscriptions: SubscriptionService;
  idempotency: Pick<IdempotencyService, 'run'>;
  guard: CustomerGuard;
  redis: Redis;
  redisPrefix: string;
  logger: Logger;
}

const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/** The signed-in customer's enrollments; the customer id comes from the session, never the request. */
export function createEnrollmentRouter(deps: SubscriptionRouteDeps): Router {
  const { subscriptions, guard } = deps;
  const router = Router();
  router.use(noStore, guard.requireCustomer);

  // A double-clicked "enroll" is one enrollment: by Idempotency-Key when sent, by the unique active key otherwise.
  router.post('/', async (req, res) => {
    const { customerId } = customerPrincipal(req);
    const run = async () => ({ status: 201, body: await subscriptions.enroll(customerId, req.body) });
    const key = req.header('idempotency-key');
    const result = key ? await deps.idempotency.run(`enrollment:${customerId}`, key, req.body, run) : { ...(await run()), replayed: false };
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(result.status).json(result.body);
  });
  router.get('/', async (req, res) => {
    res.json({ items: await subscriptions.list(customerPrincipal(req).customerId) });
  });
  router.get('/:id', async (req, res) => {
    res.json(await subscriptions.get(customerPrincipal(req).customerId, parseParams(EnrollmentParams, req).id));
  });
  router.patch('/:id', async (req, res) => {
    res.json(await subscriptions.change(customerPrincipal(req).customerId, parseParams(EnrollmentParams, req).id, req.body));
  });
  router.post('/:id/pause', async (req, res) => {
    res.json(await subscriptions.pause(customerPrincipal(req).customerId, parseParams(EnrollmentParams, req).id));
  });
  router.post('/:id/resume', async (req, res) => {
    res.json(await subscriptions.resume(customerPrincipal(req).customerId, parseParams(EnrollmentParams, req).id));
  });
  router.post('/:id/cancel', async (req, res) => {
    res.json(await subscriptions.cancel(customerPrincipal(req).customerId, parseParams(EnrollmentParams, req).id, req.body));
  });
  return router;
}

/**
 * The notice email's links. GET only describes what the link will do (mail scanners and link
 * previews fetch links); POST does it. No sign-in: the HMAC signature is the authority, bound to one
 * enrollment, release and action until the release opens.
 */
export function createSubscriptionLinkRouter(deps: Pick<SubscriptionRouteDeps, 'subscriptions' | 'redis' | 'redisPrefix' | 'logger'>): Router {
  const router = Router();
  const limiter = rateLimit({ redis: deps.redis, prefix: deps.redisPrefix, logger: deps.logger, name: 'subscription-link', limit: 60, windowSeconds: 60, key: clientIp });
  router.use(noStore, limiter);
  router.get('/:token', async (req, res) => {
    res.json(await deps.subscriptions.previewLink(parseParams(LinkTokenParams, req).token));
  });
  router.post('/:token', async (req, res) => {
    res.json(await deps.subscriptions.applyLink(parseParams(LinkTokenParams, req).token));
  });
  return router;
}
