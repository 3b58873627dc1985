import { expect } from 'chai';
import type { StaffRouteSpec } from '../../api/http/staff-router.ts';
import { roleHas, STAFF_ROLES, type StaffRole } from '../../api/staff/permissions.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

/**
 * Every staff route x every role, read from the app's own registry (app.locals.staffRoutes), so
 * routes added later are covered without touching this file. Route parameters get a well-formed
 * id that matches nothing: a permitted role may get 400 or 404, never 401 or 403.
 */
const DUMMY_ID = '0000000000000000000000ff';

function concretePath(path: string): string {
  return path
    .replace(/[{}]/g, '')
    .replace(/:([A-Za-z0-9_]+)/g, DUMMY_ID)
    .replace(/\*([A-Za-z0-9_]+)?/g, DUMMY_ID);
}

describe('permission matrix: every staff route x every role', function () {
  this.timeout(300_000);
  let ctx: TestContext;
  let routes: StaffRouteSpec[];
  const tokens = new Map<StaffRole, string>();
  const usernames = new Map<StaffRole, string>();

  before(async () => {
    ctx = await createTestContext();
    routes = [...(ctx.runtime.createHttpApp().locals.staffRoutes as StaffRouteSpec[])];
    for (const role of STAFF_ROLES) {
      const user = await createStaffUser(ctx, role);
      usernames.set(role, user.username);
      tokens.set(role, await loginStaff(ctx, user));
    }
  });
  after(async () => ctx?.close());

  const call = (route: StaffRouteSpec, token?: string) =>
    api(ctx.baseUrl, route.method.toUpperCase(), concretePath(route.path), {
      ...(token ? { token } : {}),
      ...(route.method === 'get' || route.method === 'delete' ? {} : { body: {} }),
    });

  it('finds the registered staff routes, including the audit trail', () => {
    expect(routes.length).to.be.greaterThan(0);
    expect(routes).to.deep.include({ method: 'get', path: '/api/staff/audit', permission: 'audit:read' });
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size, 'each route is declared once').to.equal(keys.length);
  });

  it('answers 401 on every staff route without a token', async () => {
    const wrong: string[] = [];
    for (const route of routes) {
      const response = await call(route);
      if (response.status !== 401) wrong.push(`${route.method.toUpperCase()} ${route.path}: ${response.status}`);
    }
    expect(wrong, wrong.join('\n')).to.deep.equal([]);
  });

  for (const role of STAFF_ROLES) {
    it(`gives ${role} exactly the routes its permissions allow`, async () => {
      const token = tokens.get(role)!;
      const wrong: string[] = [];
      for (const route of routes) {
        const response = await call(route, token);
        const allowed = roleHas(role, route.permission);
        const ok = allowed ? response.status !== 401 && response.status !== 403 : response.status === 403;
        if (!ok) wrong.push(`${route.method.toUpperCase()} ${route.path} [${route.permission}] ${allowed ? 'allowed' : 'forbidden'} but got ${response.status} ${JSON.stringify(response.body?.error?.code ?? '')}`);
        if (!allowed && response.status === 403) expect(response.body.error.code).to.equal('staff.forbidden');
      }
      expect(wrong, wrong.join('\n')).to.deep.equal([]);
      // The session survived the whole walk: no route logged this role out on the way.
      expect((await api(ctx.baseUrl, 'GET', '/api/staff/me', { token })).status).to.equal(200);
    });
  }

  it('audits each refusal as access.denied with the missing permission', async () => {
    const forbidden = routes.filter((r) => !roleHas('csr', r.permission));
    const page = await ctx.services.audit.query({ action: 'access.denied', actor: usernames.get('csr')!, page: 1, pageSize: 200 });
    expect(page.total).to.equal(forbidden.length);
    const csrDenials = page.entries;
    expect(csrDenials[0]).to.deep.include({ outcome: 'denied' });
    expect(csrDenials[0]!.actor).to.include({ type: 'staff', role: 'csr' });
    expect(csrDenials.map((e) => e.resource.id)).to.include('GET /api/staff/audit');
  });
});
