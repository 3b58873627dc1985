import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Transporter } from 'nodemailer';
import type { Clock } from '../platform/clock.ts';
import type { Config } from '../platform/config.ts';
import type { Mailbox } from '../platform/embedded/index.ts';
import type { EventBus } from '../platform/events.ts';
import type { Logger } from '../platform/logger.ts';
import type { ObjectStore } from '../platform/object-store.ts';
import type { Queues } from '../platform/queues.ts';
import type { Secrets } from '../platform/secrets.ts';
import { createAuditService } from './audit/service.ts';
import { createStaffService } from './staff/service.ts';
import { checkoutGuestCustomers, createCustomerService } from './customers/service.ts';
import { createCatalogService } from './catalog/service.ts';
import { createInventoryService } from './inventory/service.ts';
import { createWaitingRoomService } from './waiting-room/service.ts';
import { createVaultService } from './vault/service.ts';
import { createSimulatedGateway, type PaymentGateway } from './payments/gateway.ts';
import { createRedisGatewayStore } from './payments/simulated-store.ts';
import { createPaymentService } from './payments/service.ts';
import { createIdempotencyService } from './idempotency/service.ts';
import { createCartService } from './carts/service.ts';
import { createOrderService } from './orders/service.ts';
import { createOrderLifecycle } from './orders/lifecycle.ts';
import { createCheckoutService } from './checkout/service.ts';
import { createAddressService } from './addresses/service.ts';
import { createVisitorTokens } from './waiting-room/visitors.ts';
import { createSubscriptionService } from './subscriptions/service.ts';
import { createEmailService } from './email/service.ts';
import { createFraudService } from './fraud/service.ts';
import { createIvrService } from './ivr/service.ts';
import { createPhoneNetwork } from '../ivr/phone-network.ts';

/** Connections and cross-cutting tools every domain service may take. Built in platform/runtime.ts. */
export interface CoreDeps {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  secrets: Secrets;
  mongo: Connection;
  redis: Redis;
  /** Prefix for every Redis key (tests use a unique one per suite). */
  redisPrefix: string;
  objectStore: ObjectStore;
  mailer: Transporter;
  mailbox: Mailbox | undefined;
  events: EventBus;
  queues: Queues;
}

/**
 * The whole service graph, wired explicitly in one place: read top to bottom to see who depends
 * on whom. The API routes, the IVR, the console and the workers all receive this object.
 */
export interface ServiceOverrides {
  /** A real processor adapter; the simulated gateway is the embedded default. */
  gateway?: PaymentGateway;
}

export function createServices(core: CoreDeps, overrides: ServiceOverrides = {}) {
  const { mongo, redis, redisPrefix, clock, logger } = core;
  const audit = createAuditService({ mongo: core.mongo, clock: core.clock, logger: core.logger, retentionMonths: core.config.audit.retentionMonths });
  const staff = createStaffService({
    mongo: core.mongo,
    redis: core.redis,
    redisPrefix: core.redisPrefix,
    clock: core.clock,
    logger: core.logger,
    settings: core.config.staff,
    appSecret: core.secrets.appSecret,
    events: core.events,
    audit,
  });
  // Staff lookup by order number asks the orders service, and closing an account the vault (both created below; only called at request time).
  const customers = createCustomerService({ mongo: core.mongo, clock: core.clock, logger: core.logger, appSecret: core.secrets.appSecret, audit, findCustomerIdsByOrderNumber: (orderNumber) => orders.customerIdsByOrderNumber(orderNumber), deleteSavedCards: (customerId) => vault.deleteAllSaved(customerId) });
  const inventory = createInventoryService({ redis, prefix: `${redisPrefix}:inv`, clock, reservationTtlMs: core.config.checkout.reservationTtlSeconds * 1000 });
  const catalog = createCatalogService({ mongo, clock, inventory, audit, logger });
  const waitingRoom = createWaitingRoomService({ redis, prefix: `${redisPrefix}:wr`, clock, secret: core.secrets.appSecret });
  const vault = createVaultService({ mongo, clock, masterKeys: core.secrets.vaultMasterKeys, activeKeyId: core.secrets.vaultActiveKeyId, fingerprintSecret: core.secrets.appSecret });
  const payments = createPaymentService({ gateway: overrides.gateway ?? createSimulatedGateway({ clock, store: createRedisGatewayStore({ redis, prefix: `${redisPrefix}:simulated-gateway` }) }), vault, logger });
  const idempotency = createIdempotencyService({ mongo, clock, secret: core.secrets.appSecret, logger });
  const orders = createOrderService({ mongo, redis, redisPrefix, clock, events: core.events, queues: core.queues, logger });
  const orderLifecycle = createOrderLifecycle({ orders, inventory, payments, vault, logger });
  const fraud = createFraudService({ mongo, redis, redisPrefix, clock, logger, audit, orders, orderLifecycle, secret: core.secrets.appSecret });
  const carts = createCartService({ mongo, clock, catalog, stockOf: (sku) => inventory.getStock(sku) });
  const addresses = createAddressService({ householdSecret: core.secrets.appSecret });
  const email = createEmailService({
    mongo,
    redis,
    redisPrefix,
    clock,
    logger,
    queues: core.queues,
    audit,
    customers,
    mailbox: core.mailbox,
    appSecret: core.secrets.appSecret,
    brand: { storeName: core.config.storeName, baseUrl: core.config.http.publicBaseUrl ?? `http://localhost:${core.config.http.port}` },
    mailFrom: core.config.smtp.from,
  });
  const checkout = createCheckoutService({
    clock,
    householdKeyOf: (address) => addresses.householdKey(address),
    logger,
    catalog,
    carts,
    inventory,
    vault,
    payments,
    orders,
    customers: checkoutGuestCustomers(customers),
    admission: {
      async roomsGuarding(skus) {
        const guarded = await Promise.all(skus.map((sku) => waitingRoom.roomStats(sku).then(() => sku, () => null)));
        return guarded.filter((sku): sku is string => sku !== null);
      },
      verify: (roomId, token) => void waitingRoom.verifyAdmission(roomId, token),
    },
    reservationTtlMs: core.config.checkout.reservationTtlSeconds * 1000,
  });
  const subscriptions = createSubscriptionService({
    mongo,
    redis,
    redisPrefix,
    clock,
    logger,
    appSecret: core.secrets.appSecret,
    publicBaseUrl: core.config.http.publicBaseUrl ?? `http://localhost:${core.config.http.port}`,
    vault,
    catalog,
    householdKeyOf: (address) => addresses.householdKey(address),
    audit,
    queues: core.queues,
  });
  // The phone network (Twilio, or the embedded simulator without an account) and the IVR's data.
  const phone = createPhoneNetwork({ config: core.config, appSecret: core.secrets.appSecret, logger });
  const ivr = createIvrService({
    mongo,
    redis,
    redisPrefix,
    clock,
    logger,
    events: core.events,
    audit,
    appSecret: core.secrets.appSecret,
    publicBaseUrl: phone.publicBaseUrl,
    orders,
    customersByPhone: (phoneNumber) => customers.findActiveByPhone(phoneNumber),
    connector: phone,
    store: { name: core.config.storeName, number: phone.storeNumber },
  });
  return {
    core,
    audit,
    phone,
    ivr,
    staff,
    customers,
    catalog,
    inventory,
    waitingRoom,
    visitors: createVisitorTokens(core.secrets.appSecret),
    vault,
    payments,
    idempotency,
    orders,
    orderLifecycle,
    fraud,
    carts,
    addresses,
    checkout,
    subscriptions,
    email,
  };
}

export type Services = ReturnType<typeof createServices>;
