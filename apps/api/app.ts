import express, { type Express } from 'express';
import type { StaffRouteSpec } from '../../api/http/staff-router.ts';
import { createCustomerGuard, createStaffGuard } from '../../api/http/auth.ts';
import { customerAuthenticator, customerRouter } from '../../api/customers/routes.ts';
import { CUSTOMER_STAFF_MOUNT, customerStaffRouter } from '../../api/customers/staff-routes.ts';
import { createCatalogRouter } from '../../api/catalog/routes.ts';
import { CATALOG_ADMIN_MOUNT, createCatalogAdminRouter } from '../../api/catalog/admin-routes.ts';
import { auditDeniedAccess, createAuditRoutes } from '../../api/audit/routes.ts';
import { createStaffRoutes } from '../../api/staff/routes.ts';
import { errorHandler, notFoundHandler } from '../../api/http/errors.ts';
import { requestContext } from '../../api/http/request-context.ts';
import { createCheckoutRoutes } from '../../api/checkout/routes.ts';
import { createEmailRouter, EMAIL_PUBLIC_MOUNT } from '../../api/email/routes.ts';
import { createEmailStaffRouter, EMAIL_STAFF_MOUNT } from '../../api/email/staff-routes.ts';
import { createFraudRoutes, FRAUD_STAFF_MOUNT } from '../../api/fraud/routes.ts';
import { createQueueRoutes, QUEUES_STAFF_MOUNT } from '../../api/queues/routes.ts';
import { createOpenApiRoutes } from '../../api/openapi/routes.ts';
import { createStorefrontRoutes } from '../../api/storefront/routes.ts';
import { createIvrStaffRoutes, IVR_STAFF_MOUNT } from '../../api/ivr/routes.ts';
import { createEnrollmentRouter, createSubscriptionLinkRouter, ENROLLMENT_MOUNT, SUBSCRIPTION_LINKS_MOUNT } from '../../api/subscriptions/routes.ts';
import { createSubscriptionStaffRouter, SUBSCRIPTION_STAFF_MOUNT } from '../../api/subscriptions/staff-routes.ts';
import { createIvrWebhookRouter } from '../../ivr/webhooks.ts';
import type { PhoneNetwork } from '../../ivr/phone-network.ts';
import type { Services } from '../../api/services.ts';
import type { PhoneSimulator } from '../dev/phone-simulator.ts';
import { createHealthRouter, type Readiness } from '../health.ts';
import { CHAT_PUBLIC_MOUNT, CHAT_STAFF_MOUNT, createChatRoutes } from '../../api/chat/routes.ts';
import { createConsoleStaticRoutes } from '../../agent-console/static.ts';
import { refuseUnsafeRequestText } from '../../api/http/validate.ts';
import { createPhoneLineRouter } from '../../ivr/line.ts';

/** What the HTTP application is built from (apps/runtime.ts has all of it). */
export interface HttpAppParts {
  services: Services;
  phone: Pick<PhoneNetwork, 'authToken' | 'publicBaseUrl'>;
  /** The development phone simulator, mounted at /simulator outside production. */
  phoneSimulator: Pick<PhoneSimulator, 'router'> | undefined;
  readiness: Readiness;
}

/**
 * The HTTP application of `mintdesk api`: JSON API under /api, IVR webhooks under /ivr, the phone
 * simulator under /simulator (development), the storefront at /. Each area mounts its own router;
 * this file only orders them. The console's sockets are another process (apps/ws/main.ts).
 */
export function createHttpApp(parts: HttpAppParts): Express {
  const { services, phone, phoneSimulator, readiness } = parts;
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

  app.use(createHealthRouter(readiness));

  app.use('/api', express.json({ limit: '64kb' }), refuseUnsafeRequestText);

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
  // Live chat: the widget's pre-chat form and left messages, and the admins' canned responses (the rest is sockets).
  const chatApi = createChatRoutes({ chat: services.chat, guard: guards.staff, redis: core.redis, redisPrefix: core.redisPrefix, logger: core.logger });
  app.use(CHAT_PUBLIC_MOUNT, chatApi.router);
  app.use(CHAT_STAFF_MOUNT, chatApi.staff.router);
  staffRoutes.push(...chatApi.staff.routes);
  // Twilio's webhooks (form-encoded, signature-checked) and, with no Twilio account outside production, the phone simulator.
  app.use('/ivr', createIvrWebhookRouter(services, phone));
  app.use('/api/phone-line', createPhoneLineRouter({ ivr: services.ivr, clock: core.clock }));
  if (phoneSimulator && core.config.env !== 'production') app.use('/simulator', phoneSimulator.router);

  // The API description reads staffRoutes when first requested, so routers mounted later are in it too.
  app.use('/api', createOpenApiRoutes({ staffRoutes }));
  const consoleStatic = createConsoleStaticRoutes();
  app.use('/console', consoleStatic.console);
  app.use('/chat-widget', consoleStatic.widget);
  const storefront = createStorefrontRoutes({ config: core.config, logger: core.logger });
  app.use('/api/storefront', storefront.api);
  app.use(storefront.site);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
