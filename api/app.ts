import express, { type Express } from 'express';
import type { StaffRouteSpec } from './http/staff-router.ts';
import { errorHandler, notFoundHandler } from './http/errors.ts';
import { requestContext } from './http/request-context.ts';
import type { Services } from './services.ts';

export interface Readiness {
  check(): Promise<Record<string, 'ok' | string>>;
}

/**
 * The HTTP application: JSON API under /api, IVR webhooks under /ivr, the console under /console,
 * the storefront at /. Each area mounts its own router; this file only orders them.
 */
export function createHttpApp(services: Services, options: { readiness: Readiness }): Express {
  const { core } = services;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', core.config.http.trustProxy);
  app.use(requestContext(core.logger));
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks = await options.readiness.check();
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.use('/api', express.json({ limit: '64kb' }));

  // Every StaffRouter mounted below registers here; the permission-matrix test reads app.locals.staffRoutes.
  const staffRoutes: StaffRouteSpec[] = [];
  app.locals.staffRoutes = staffRoutes;

  // --- domain routers (mount order: public, customer, staff) ---

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
