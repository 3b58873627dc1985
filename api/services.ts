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
import { createCheckpointStore } from './audit/checkpoints.ts';
import { deriveAuditKeys } from './audit/chain.ts';
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
import { createIvrService, type QueueConnector } from './ivr/service.ts';
import { isOpen, nextOpening } from './ivr/hours.ts';
import { createTaskService } from './tasks/service.ts';
import { createChatService } from './chat/service.ts';

/** Connections and cross-cutting tools every domain service may take. Built in apps/runtime.ts. */
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

/** The outside networks the services talk through, chosen by the composition root (apps/runtime.ts). */
export interface ServiceAdapters {
  /** Twilio or the development phone simulator (ivr/phone-network.ts): how a rep's accept reaches a caller. */
  phone: QueueConnector & { readonly publicBaseUrl: string; readonly storeNumber: string };
  /** A real processor adapter; the simulated gateway is the embedded default. */
  gateway?: PaymentGateway;
}

/**
 * The whole service graph, wired explicitly in one place: read top to bottom to see who depends
 * on whom. The API routes, the IVR, the console and the workers all receive this object.
 */
export function createServices(core: CoreDeps, adapters: ServiceAdapters) {
  const { mongo, redis, redisPrefix, clock, logger } = core;
  const { checkpointBucket, checkpointLockMode, retentionMonths } = core.config.audit;
  const audit = createAuditService({
    mongo: core.mongo,
    clock: core.clock,
    logger: core.logger,
    retentionMonths,
    hmacKey: core.secrets.auditHmacKey,
    checkpoints: createCheckpointStore({
      store: checkpointBucket ? core.objectStore.withBucket(checkpointBucket) : core.objectStore,
      keys: deriveAuditKeys(core.secrets.auditHmacKey),
      logger: core.logger,
      lockMode: checkpointLockMode,
      retentionMonths,
    }),
  });
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
  // Staff lookup by order number asks the orders service (created below; only called at request time).
  const customers = createCustomerService({
    mongo: core.mongo,
    clock: core.clock,
    logger: core.logger,
    appSecret: core.secrets.appSecret,
    audit,
    // Closing an account forgets its saved cards (the vault is created below; only called at request time).
    forgetSavedCards: (customerId) => vault.forgetSaved(customerId),
    findCustomerIdsByOrderNumber: (orderNumber) => orders.customerIdsByOrderNumber(orderNumber),
  });
  const inventory = createInventoryService({ redis, prefix: `${redisPrefix}:inv`, clock, reservationTtlMs: core.config.checkout.reservationTtlSeconds * 1000 });
  const catalog = createCatalogService({ mongo, clock, inventory, audit, logger });
  const waitingRoom = createWaitingRoomService({ redis, prefix: `${redisPrefix}:wr`, clock, secret: core.secrets.appSecret });
  const vault = createVaultService({ mongo, clock, masterKeys: core.secrets.vaultMasterKeys, activeKeyId: core.secrets.vaultActiveKeyId, fingerprintSecret: core.secrets.appSecret });
  const payments = createPaymentService({ gateway: adapters.gateway ?? createSimulatedGateway({ clock, store: createRedisGatewayStore({ redis, prefix: `${redisPrefix}:simulated-gateway` }) }), vault, logger });
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
  const ivr = createIvrService({
    mongo,
    redis,
    redisPrefix,
    clock,
    logger,
    events: core.events,
    audit,
    appSecret: core.secrets.appSecret,
    publicBaseUrl: adapters.phone.publicBaseUrl,
    orders,
    customersByPhone: (phoneNumber) => customers.findActiveByPhone(phoneNumber),
    connector: adapters.phone,
    store: { name: core.config.storeName, number: adapters.phone.storeNumber },
  });
  // Agent console: tasks and routing (everything that waits for a person), and live chat on top of them.
  const tasks = createTaskService({
    mongo,
    redis,
    redisPrefix,
    clock,
    logger,
    audit,
    staffDirectory: (staffUserId) => staff.getUser(staffUserId).then((user) => ({ displayName: user.displayName, role: user.role })),
    settings: { offerTimeoutMs: core.config.tasks.offerTimeoutSeconds * 1000 },
  });
  const chat = createChatService({
    mongo,
    redis,
    redisPrefix,
    clock,
    logger,
    audit,
    tasks,
    appSecret: core.secrets.appSecret,
    storeName: core.config.storeName,
    storefrontBaseUrl: core.config.http.publicBaseUrl ?? `http://localhost:${core.config.http.port}`,
    async openingHours() {
      const { hours } = (await ivr.activeConfig()).config;
      const next = nextOpening(hours, clock());
      return { open: isOpen(hours, clock()), nextOpening: next ? { date: next.date, open: next.open, timeZone: hours.timeZone } : null };
    },
    sendTranscript: (input) => email.sendChatTranscript(input),
    findCustomersByEmail: (actor, address) => customers.staffSearch(actor, { email: address }).then((page) => page.items),
    ordersOfCustomer: (customerId) =>
      orders.listForCustomer(customerId, 1, 20).then((page) =>
        page.items.map((o) => ({ orderNumber: o.orderNumber, status: o.status, statusText: o.statusText, placedAt: o.placedAt, channel: o.channel, itemCount: o.lines.reduce((n, l) => n + l.quantity, 0), totalCents: o.totals.totalCents })),
      ),
    productName: (sku) => catalog.get(sku).then((product) => product.name, () => undefined),
  });
  return {
    core,
    audit,
    ivr,
    tasks,
    chat,
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
