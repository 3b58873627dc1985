import express, { type Express } from 'express';
import type { StaffRouteSpec } from './http/staff-router.ts';
import { createCustomerGuard, createStaffGuard } from './http/auth.ts';
import { customerAuthenticator, customerRouter } from './customers/routes.ts';
import { CUSTOMER_STAFF_MOUNT, customerStaffRouter } from './customers/staff-routes.ts';
import { createCatalogRouter } from './catalog/routes.ts';
import { CATALOG_ADMIN_MOUNT, createCatalogAdminRouter } from './catalog/admin-routes.ts';
import { auditDeniedAccess, createAuditRoutes } from './audit/routes.ts';
import { createStaffRoutes } from './staff/routes.ts';
import { errorHandler, notFoundHandler } from './http/errors.ts';
import { requestContext } from './http/request-context.ts';
import { createCheckoutRoutes } from './checkout/routes.ts';
import { createEmailRouter, EMAIL_PUBLIC_MOUNT } from './email/routes.ts';
import { createEmailStaffRouter, EMAIL_STAFF_MOUNT } from './email/staff-routes.ts';
import { createFraudRoutes, FRAUD_STAFF_MOUNT } from './fraud/routes.ts';
import { createQueueRoutes, QUEUES_STAFF_MOUNT } from './queues/routes.ts';
import { createOpenApiRoutes } from './openapi/routes.ts';
import { createStorefrontRoutes } from './storefront/routes.ts';
import { createIvrStaffRoutes, IVR_STAFF_MOUNT } from './ivr/routes.ts';
import { createEnrollmentRouter, createSubscriptionLinkRouter, ENROLLMENT_MOUNT, SUBSCRIPTION_LINKS_MOUNT } from './subscriptions/routes.ts';
import { createSubscriptionStaffRouter, SUBSCRIPTION_STAFF_MOUNT } from './subscriptions/staff-routes.ts';
import { createIvrWebhookRouter } from '../ivr/webhooks.ts';
import { createPhoneLineRouter } from '../ivr/line.ts';
import { createSimulatorRouter } from '../ivr/simulator/server.ts';
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

  // Guards are created once and handed to every router that needs them (app.locals.guards for late mounts).
  const guards = {
    staff: createStaffGuard({ authenticate: services.staff.authenticate, onDenied: auditDeniedAccess(services.audit) }),
    customer: createCustomerGuard({ authenticate: customerAuthenticator(services.customers) }),
  };
  app.locals.guards = guards;

  // --- domain routers (mount order: public, customer, staff) ---

  app.use('/api/catalog', createCatalogRouter(services.catalog));
  app.use('/api/customers', customerRouter({ customers: services.customers, guard: guards.customer, redis: core.redis, redisPrefix: core.redisPrefix, logger: core.logger }));

  const staffApi = createStaffRoutes({ staff: services.staff, guard: guards.staff, redis: core.redis, redisPrefix: core.redisPrefix, logger: core.logger });
  app.use('/api/staff', staffApi.sessionRouter, staffApi.admin.router);
  staffRoutes.push(...staffApi.admin.routes);
  const auditApi = createAuditRoutes({ audit: services.audit, guard: guards.staff });
  app.use('/api/staff', auditApi.router);
  staffRoutes.push(...auditApi.routes);
  const customerStaffApi = customerStaffRouter(services.customers, guards.staff);
  app.use(CUSTOMER_STAFF_MOUNT, customerStaffApi.router);
  staffRoutes.push(...customerStaffApi.routes);
  const catalogAdminApi = createCatalogAdminRouter(services.catalog, guards.staff);
  app.use(CATALOG_ADMIN_MOUNT, catalogAdminApi.router);
  staffRoutes.push(...catalogAdminApi.routes);

  const checkoutApi = createCheckoutRoutes({ services, guards });
  app.use('/api', checkoutApi.router);
  app.use('/api/staff', checkoutApi.staff.router);
  staffRoutes.push(...checkoutApi.staff.routes);
  app.use(EMAIL_PUBLIC_MOUNT, createEmailRouter({ email: services.email, redis: core.redis, redisPrefix: core.redisPrefix, logger: core.logger, storeName: services.email.brand.storeName }));
  const emailStaffApi = createEmailStaffRouter(services.email, guards.staff);
  app.use(EMAIL_STAFF_MOUNT, emailStaffApi.router);
  staffRoutes.push(...emailStaffApi.routes);
  const fraudApi = createFraudRoutes({ fraud: services.fraud, guard: guards.staff });
  app.use(FRAUD_STAFF_MOUNT, fraudApi.router);
  staffRoutes.push(...fraudApi.routes);
  const queuesApi = createQueueRoutes({ queues: core.queues, audit: services.audit, guard: guards.staff });
  app.use(QUEUES_STAFF_MOUNT, queuesApi.router);
  staffRoutes.push(...queuesApi.routes);
  const ivrStaffApi = createIvrStaffRoutes(services.ivr, guards.staff);
  app.use(IVR_STAFF_MOUNT, ivrStaffApi.router);
  staffRoutes.push(...ivrStaffApi.routes);
  const subscriptionDeps = { subscriptions: services.subscriptions, idempotency: services.idempotency, guard: guards.customer, redis: core.redis, redisPrefix: core.redisPrefix, logger: core.logger };
  app.use(ENROLLMENT_MOUNT, createEnrollmentRouter(subscriptionDeps));
  app.use(SUBSCRIPTION_LINKS_MOUNT, createSubscriptionLinkRouter(subscriptionDeps));
  const subscriptionStaffApi = createSubscriptionStaffRouter(services.subscriptions, guards.staff);
  app.use(SUBSCRIPTION_STAFF_MOUNT, subscriptionStaffApi.router);
  staffRoutes.push(...subscriptionStaffApi.routes);
  // Twilio's webhooks (form-encoded, signature-checked) and, with no Twilio account outside production, the phone simulator.
  app.use('/ivr', createIvrWebhookRouter(services));
  app.use('/api/phone-line', createPhoneLineRouter({ ivr: services.ivr, clock: core.clock }));
  if (services.phone.simulator && core.config.env !== 'production') app.use('/simulator', createSimulatorRouter({ registry: services.phone.simulator }));

  // The API description reads staffRoutes when first requested, so routers mounted later are in it too.
  app.use('/api', createOpenApiRoutes({ staffRoutes }));
  const storefront = createStorefrontRoutes({ config: core.config, logger: core.logger });
  app.use('/api/storefront', storefront.api);
  app.use(storefront.site);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
