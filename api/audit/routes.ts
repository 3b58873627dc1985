import type { Request } from 'express';
import type { createStaffGuard } from '../http/auth.ts';
import type { Principal } from '../http/principal.ts';
import { clientIp } from '../http/rate-limit.ts';
import { StaffRouter } from '../http/staff-router.ts';
import { parseQuery } from '../http/validate.ts';
import { staffPrincipal } from '../http/auth.ts';
import type { Permission } from '../staff/permissions.ts';
import { auditQuerySchema } from './schema.ts';
import type { AuditService } from './service.ts';

/**
 * Read-only access to the trail for those who audit (permission `audit:read`). Reading the trail
 * is itself recorded, with the names of the filters used but not their values.
 */
export function createAuditRoutes(deps: { audit: AuditService; guard: ReturnType<typeof createStaffGuard> }): StaffRouter {
  const { audit } = deps;
  const staff = new StaffRouter(deps.guard, '/api/staff');

  staff.get('/audit', 'audit:read', async (req, res) => {
    const principal = staffPrincipal(req);
    const query = parseQuery(auditQuerySchema, req);
    const page = await audit.query(query);
    const filters = (['actor', 'resourceType', 'resourceId', 'action', 'outcome', 'from', 'to'] as const).filter((key) => query[key] !== undefined);
    await audit.record({
      actor: principal,
      action: 'audit.read',
      resource: { type: 'audit' },
      outcome: 'success',
      details: { filters, page: query.page, pageSize: query.pageSize, returned: page.entries.length, total: page.total },
    });
    res.setHeader('Cache-Control', 'no-store');
    res.json(page);
  });

  staff.get('/audit/verify', 'audit:read', async (req, res) => {
    const principal = staffPrincipal(req);
    const result = await audit.verifyChain();
    await audit.record({
      actor: principal,
      action: 'audit.verify',
      resource: { type: 'audit' },
      outcome: 'success',
      details: { ok: result.ok, checked: result.checked, ...(result.firstBrokenSeq !== undefined ? { firstBrokenSeq: result.firstBrokenSeq } : {}) },
    });
    res.setHeader('Cache-Control', 'no-store');
    res.json(result);
  });

  return staff;
}

/**
 * The staff guard's `onDenied`: a 403 is recorded as `access.denied` against the route pattern
 * (not the URL, whose query string may carry personal data) with the permission that was missing.
 */
export function auditDeniedAccess(audit: AuditService) {
  return async (principal: Principal, permission: Permission, req: Request): Promise<void> => {
    const routePath = typeof req.route?.path === 'string' ? req.route.path : '';
    await audit.record({
      actor: principal,
      action: 'access.denied',
      resource: { type: 'route', id: `${req.method} ${req.baseUrl}${routePath}` },
      outcome: 'denied',
      ip: clientIp(req),
      details: { permission },
    });
  };
}
