import { createHash } from 'node:crypto';
import { Router, type Request, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/logger.ts';
import { customerPrincipal, type Authenticator, type createCustomerGuard } from '../http/auth.ts';
import { clientIp, rateLimit } from '../http/rate-limit.ts';
import type { CustomerService, LoginResult } from './service.ts';

/**
 * Customer-facing routes under /api/customers: registration, sign-in, self-service and the
 * security-question password reset. Thin: parsing and rules live in the service; the customer id
 * always comes from the session, never from the request.
 */

export interface CustomerRouterDeps {
  customers: CustomerService;
  guard: ReturnType<typeof createCustomerGuard>;
  redis: Redis;
  redisPrefix: string;
  logger: Logger;
}

/** Logins can be email addresses: Redis keys carry a digest, not the login itself. */
const loginDigest = (req: Request): string => {
  const login = typeof req.body?.login === 'string' ? req.body.login.trim().toLowerCase() : '';
  return createHash('sha256').update(login).digest('base64url').slice(0, 22);
};

const session = (result: LoginResult) => ({
  token: result.token,
  expiresAt: result.expiresAt.toISOString(),
  idleTimeoutSeconds: result.idleTimeoutSeconds,
});

/** What `createCustomerGuard` calls: the session token to a customer principal carrying the client IP. */
export const customerAuthenticator =
  (customers: Pick<CustomerService, 'authenticate'>): Authenticator =>
  (token, req) =>
    customers.authenticate(token, { ip: clientIp(req) });

export function customerRouter(deps: CustomerRouterDeps): Router {
  const { customers, guard } = deps;
  const limiter = (name: string, limit: number, windowSeconds: number, key: (req: Request) => string): RequestHandler =>
    rateLimit({ redis: deps.redis, prefix: deps.redisPrefix, logger: deps.logger, name, limit, windowSeconds, key });

  const router = Router();
  // Account data must not sit in shared or browser caches.
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.post('/register', limiter('customer-register', 100, 3600, clientIp), async (req, res) => {
    const result = await customers.register(req.body, { ip: clientIp(req) });
    res.status(201).json({ customer: result.customer, session: session(result) });
  });

  // Per IP and login against guessing; per login whatever the IP against guessing from many
  // addresses (credential stuffing), high enough that a shopper's own retries never reach it.
  router.post(
    '/login',
    limiter('customer-login', 10, 15 * 60, (req) => `${clientIp(req)}:${loginDigest(req)}`),
    limiter('customer-login-any-ip', 30, 3600, loginDigest),
    async (req, res) => {
      const result = await customers.login(req.body);
      res.json({ customer: result.customer, session: session(result) });
    },
  );

  router.post('/logout', guard.requireCustomer, async (req, res) => {
    await customers.logout(customerPrincipal(req).sessionId);
    res.status(204).end();
  });

  router.get('/me', guard.requireCustomer, async (req, res) => {
    res.json(await customers.getProfile(customerPrincipal(req).customerId));
  });

  router.patch('/me', guard.requireCustomer, async (req, res) => {
    res.json(await customers.updateProfile(customerPrincipal(req).customerId, req.body, { source: 'web', ip: clientIp(req) }));
  });

  router.put('/me/preferences', guard.requireCustomer, async (req, res) => {
    res.json(await customers.setPreferences(customerPrincipal(req).customerId, req.body, { source: 'web', ip: clientIp(req) }));
  });

  router.post('/me/consents', guard.requireCustomer, async (req, res) => {
    res.status(201).json({ consents: await customers.recordConsent(customerPrincipal(req).customerId, req.body, { source: 'web', ip: clientIp(req) }) });
  });

  router.post('/me/password', guard.requireCustomer, limiter('customer-password', 10, 15 * 60, (req) => customerPrincipal(req).customerId), async (req, res) => {
    const principal = customerPrincipal(req);
    await customers.changePassword(principal.customerId, req.body, { sessionId: principal.sessionId });
    res.status(204).end();
  });

  router.post('/me/close', guard.requireCustomer, limiter('customer-close', 10, 15 * 60, (req) => customerPrincipal(req).customerId), async (req, res) => {
    res.json(await customers.closeAccount(customerPrincipal(req).customerId, req.body, { source: 'web', ip: clientIp(req) }));
  });

  router.post('/password-reset/question', limiter('customer-reset-question', 30, 15 * 60, clientIp), async (req, res) => {
    res.json(await customers.securityQuestionFor(req.body));
  });

  // Security answers are guessable, so attempts are capped per IP and login and, whatever the IP, per login.
  router.post(
    '/password-reset/security-question',
    limiter('customer-reset', 5, 15 * 60, (req) => `${clientIp(req)}:${loginDigest(req)}`),
    limiter('customer-reset-login', 10, 24 * 3600, loginDigest),
    async (req, res) => {
      await customers.resetPasswordWithSecurityQuestion(req.body);
      res.status(204).end();
    },
  );

  return router;
}
