import { staffPrincipal, type StaffGuard } from '../http/auth.ts';
import { clientIp } from '../http/rate-limit.ts';
import { StaffRouter } from '../http/staff-router.ts';
import { parseParams } from '../http/validate.ts';
import { ProgramParams, ReleaseParams, RunParams, StaffEnrollmentParams } from './schema.ts';
import type { SubscriptionService } from './service.ts';

export const SUBSCRIPTION_STAFF_MOUNT = '/api/staff/subscriptions';

/**
 * Admin side of subscription programs: enrollments per program (addresses: every read audited by the
 * service), generation runs and their progress, and each program's schedule and lead times.
 */
export function createSubscriptionStaffRouter(subscriptions: SubscriptionService, guard: StaffGuard): StaffRouter {
  const staff = new StaffRouter(guard, SUBSCRIPTION_STAFF_MOUNT);
  staff.router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  staff.get('/programs/:program/enrollments', 'subscriptions:manage', async (req, res) => {
    const { program } = parseParams(ProgramParams, req);
    res.json(await subscriptions.staffListByProgram(staffPrincipal(req), program, req.query, clientIp(req)));
  });
  staff.get('/enrollments/:id', 'subscriptions:manage', async (req, res) => {
    res.json(await subscriptions.staffGet(staffPrincipal(req), parseParams(StaffEnrollmentParams, req).id, clientIp(req)));
  });

  staff.get('/programs/:program/settings', 'subscriptions:manage', async (req, res) => {
    res.json(await subscriptions.getProgramSettings(parseParams(ProgramParams, req).program));
  });
  staff.put('/programs/:program/settings', 'subscriptions:manage', async (req, res) => {
    res.json(await subscriptions.setProgramSettings(staffPrincipal(req), parseParams(ProgramParams, req).program, req.body));
  });

  // Generation ahead of the public sale: the run is queued and its progress read from /runs/:runId.
  staff.post('/programs/:program/releases/:sku/generate', 'subscriptions:manage', async (req, res) => {
    const { program, sku } = parseParams(ReleaseParams, req);
    res.status(202).json(await subscriptions.requestRun(staffPrincipal(req), program, sku, req.body));
  });
  staff.post('/programs/:program/releases/:sku/notices', 'subscriptions:manage', async (req, res) => {
    const { program, sku } = parseParams(ReleaseParams, req);
    res.status(202).json(await subscriptions.requestNotices(staffPrincipal(req), program, sku));
  });

  staff.get('/runs', 'subscriptions:manage', async (req, res) => {
    res.json(await subscriptions.listRuns(req.query));
  });
  staff.get('/runs/:runId', 'subscriptions:manage', async (req, res) => {
    res.json(await subscriptions.getRun(parseParams(RunParams, req).runId));
  });
  return staff;
}
