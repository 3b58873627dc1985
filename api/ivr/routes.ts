import { staffPrincipal, type StaffGuard } from '../http/auth.ts';
import { StaffRouter } from '../http/staff-router.ts';
import type { IvrService } from './service.ts';

export const IVR_STAFF_MOUNT = '/api/staff/ivr';

/**
 * Staff side of the phone line, mounted at /api/staff/ivr:
 *
 * - `GET  /calls/waiting`           callers waiting for a rep (calls:read)
 * - `GET  /calls/:callSid`          one call record: path, outcome, timings (calls:read)
 * - `POST /calls/:callSid/accept`   take a waiting call; `{ phone? }` rings a phone instead of the console (calls:accept)
 * - `GET  /callbacks?status=`       callback tasks (callbacks:handle)
 * - `POST /callbacks/:id/claim`     take a callback task (callbacks:handle)
 * - `POST /callbacks/:id/complete`  `{ result, note? }` (callbacks:handle)
 * - `GET  /reports?from=&to=`       calls per hour, containment, abandonment, average wait by day (reports:read)
 * - `GET  /config`, `GET /config/versions`, `GET /config/versions/:version`,
 *   `PUT  /config` `{ baseVersion, note?, config }`  menus, prompts, hours (ivr:manage)
 */
export function createIvrStaffRoutes(ivr: IvrService, guard: StaffGuard): StaffRouter {
  const staff = new StaffRouter(guard, IVR_STAFF_MOUNT);
  staff.router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  staff.get('/calls/waiting', 'calls:read', async (req, res) => {
    res.json({ items: await ivr.listWaiting(staffPrincipal(req)) });
  });
  staff.get('/calls/:callSid', 'calls:read', async (req, res) => {
    res.json(await ivr.getCall(staffPrincipal(req), String(req.params.callSid)));
  });
  staff.post('/calls/:callSid/accept', 'calls:accept', async (req, res) => {
    res.status(202).json(await ivr.acceptCall(staffPrincipal(req), String(req.params.callSid), req.body));
  });

  staff.get('/callbacks', 'callbacks:handle', async (req, res) => {
    res.json(await ivr.listCallbacks(staffPrincipal(req), req.query));
  });
  staff.post('/callbacks/:id/claim', 'callbacks:handle', async (req, res) => {
    res.json(await ivr.claimCallback(staffPrincipal(req), String(req.params.id)));
  });
  staff.post('/callbacks/:id/complete', 'callbacks:handle', async (req, res) => {
    res.json(await ivr.completeCallback(staffPrincipal(req), String(req.params.id), req.body));
  });

  staff.get('/reports', 'reports:read', async (req, res) => {
    res.json(await ivr.report(req.query));
  });

  staff.get('/config', 'ivr:manage', async (_req, res) => {
    res.json(await ivr.getConfig());
  });
  staff.get('/config/versions', 'ivr:manage', async (_req, res) => {
    res.json({ items: await ivr.listConfigVersions() });
  });
  staff.get('/config/versions/:version', 'ivr:manage', async (req, res) => {
    res.json(await ivr.getConfigVersion(Number(req.params.version)));
  });
  staff.put('/config', 'ivr:manage', async (req, res) => {
    res.status(201).json(await ivr.saveConfig(staffPrincipal(req), req.body));
  });

  return staff;
}
