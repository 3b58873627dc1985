import { Router, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/logger.ts';
import { staffPrincipal, type createStaffGuard } from '../http/auth.ts';
import { clientIp, rateLimit } from '../http/rate-limit.ts';
import { StaffRouter } from '../http/staff-router.ts';
import { parseBody, parseParams } from '../http/validate.ts';
import { changeRoleSchema, setPasswordSchema, staffUserParamsSchema, suspendSchema } from './schema.ts';
import type { StaffService } from './service.ts';

export interface StaffRoutesDeps {
  staff: StaffService;
  guard: ReturnType<typeof createStaffGuard>;
  redis: Redis;
  redisPrefix: string;
  logger: Logger;
}

/** Per-address ceiling on logon attempts (password spraying across many accounts); lockout is per account. */
const LOGIN_ATTEMPTS_PER_MINUTE_PER_IP = 60;

/**
 * `/api/staff` session endpoints (logon is public; the rest need any live staff session) and the
 * account administration endpoints (permission `staff:manage`). Mount both at `/api/staff`.
 */
export function createStaffRoutes(deps: StaffRoutesDeps): { sessionRouter: Router; admin: StaffRouter } {
  const { staff, guard } = deps;
  const sessionRouter = Router();
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };

  sessionRouter.post(
    '/login',
    rateLimit({ redis: deps.redis, prefix: deps.redisPrefix, name: 'staff-login', limit: LOGIN_ATTEMPTS_PER_MINUTE_PER_IP, windowSeconds: 60, key: clientIp, logger: deps.logger }),
    noStore,
    async (req, res) => {
      res.json(await staff.login(req.body ?? {}, { ip: clientIp(req) }));
    },
  );
  sessionRouter.post('/logout', guard.authenticateStaff, async (req, res) => {
    await staff.logout(staffPrincipal(req));
    res.status(204).end();
  });
  sessionRouter.get('/me', guard.authenticateStaff, noStore, async (req, res) => {
    res.json(await staff.me(staffPrincipal(req)));
  });
  sessionRouter.post('/me/password', guard.authenticateStaff, async (req, res) => {
    await staff.changeOwnPassword(staffPrincipal(req), req.body ?? {});
    res.status(204).end();
  });

  const admin = new StaffRouter(guard, '/api/staff');
  admin.get('/users', 'staff:manage', async (_req, res) => {
    res.json({ users: await staff.listUsers() });
  });
  admin.post('/users', 'staff:manage', noStore, async (req, res) => {
    res.status(201).json(await staff.createUser(req.body ?? {}, staffPrincipal(req)));
  });
  admin.get('/users/:staffUserId', 'staff:manage', async (req, res) => {
    const { staffUserId } = parseParams(staffUserParamsSchema, req);
    res.json({ user: await staff.getUser(staffUserId) });
  });
  admin.post('/users/:staffUserId/role', 'staff:manage', noStore, async (req, res) => {
    const { staffUserId } = parseParams(staffUserParamsSchema, req);
    const { role } = parseBody(changeRoleSchema, req);
    res.json(await staff.changeRole(staffUserId, role, staffPrincipal(req)));
  });
  admin.post('/users/:staffUserId/suspend', 'staff:manage', async (req, res) => {
    const { staffUserId } = parseParams(staffUserParamsSchema, req);
    const { reason } = parseBody(suspendSchema, req);
    res.json({ user: await staff.suspend(staffUserId, reason, staffPrincipal(req)) });
  });
  admin.post('/users/:staffUserId/reactivate', 'staff:manage', async (req, res) => {
    const { staffUserId } = parseParams(staffUserParamsSchema, req);
    res.json({ user: await staff.reactivate(staffUserId, staffPrincipal(req)) });
  });
  admin.post('/users/:staffUserId/totp/reset', 'staff:manage', noStore, async (req, res) => {
    const { staffUserId } = parseParams(staffUserParamsSchema, req);
    res.json(await staff.resetTotp(staffUserId, staffPrincipal(req)));
  });
  admin.post('/users/:staffUserId/sessions/revoke', 'staff:manage', async (req, res) => {
    const { staffUserId } = parseParams(staffUserParamsSchema, req);
    res.json(await staff.revokeSessions(staffUserId, staffPrincipal(req)));
  });
  admin.post('/users/:staffUserId/password', 'staff:manage', async (req, res) => {
    const { staffUserId } = parseParams(staffUserParamsSchema, req);
    const { password } = parseBody(setPasswordSchema, req);
    res.json({ user: await staff.setPassword(staffUserId, password, staffPrincipal(req)) });
  });

  return { sessionRouter, admin };
}
