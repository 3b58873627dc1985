import { Router, type Request } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../../platform/errors.ts';
import { clientIp, rateLimit } from '../http/rate-limit.ts';
import type { Guards } from '../http/auth.ts';
import { StaffRouter } from '../http/staff-router.ts';
import { customerPrincipal, staffPrincipal } from '../http/auth.ts';
import { parseBody, parseParams, parseQuery } from '../http/validate.ts';
import type { OrderStatus } from '../orders/status.ts';
import { CancelOrderRequest, CardTokenParam, CartParam, OpenLaunchRequest, OrderNumberParam, PhoneOrderRequest, RoomParam, StaffOrderQuery } from './schema.ts';
import { StatusChangeRequest } from '../orders/schema.ts';
import { StandardizeAddressRequest } from '../addresses/schema.ts';
import type { Services } from '../services.ts';

const customerIdOf = (req: Request) => (req.principal?.type === 'customer' ? req.principal.customerId : null);

/** Shopper-facing carts, order placement and order history; the same checkout serves CSR phone orders. */
export function createCheckoutRoutes({ services, guards }: { services: Services; guards: Guards }) {
  const { core, carts, checkout, orders, vault, audit, idempotency } = services;
  const router = Router();
  const limiter = (name: string, limit: number, windowSeconds: number) =>
    rateLimit({ redis: core.redis, prefix: core.redisPrefix, name, limit, windowSeconds, key: clientIp, logger: core.logger });

  router.post('/carts', guards.customer.optionalCustomer, async (req, res) => {
    res.status(201).json(await carts.create(customerIdOf(req)));
  });
  router.get('/carts/:cartId', guards.customer.optionalCustomer, async (req, res) => {
    res.json(await carts.get(parseParams(CartParam, req).cartId, customerIdOf(req)));
  });
  router.put('/carts/:cartId/lines', guards.customer.optionalCustomer, async (req, res) => {
    res.json(await carts.setLine(parseParams(CartParam, req).cartId, customerIdOf(req), req.body));
  });

  // Placement: idempotent per Idempotency-Key, rate limited per client address.
  router.post('/orders', limiter('place-order', 30, 60), guards.customer.optionalCustomer, async (req, res) => {
    const run = async () => ({ status: 201, body: await checkout.placeOrder(req.body, { channel: 'web', customerId: customerIdOf(req), ip: clientIp(req) }) });
    const key = req.header('idempotency-key');
    const result = key ? await idempotency.run(`order:${customerIdOf(req) ?? 'guest'}`, key, req.body, run) : { ...(await run()), replayed: false };
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(result.status).json(result.body);
  });

  // The standardised form is a suggestion: the shopper or CSR may keep what they typed.
  router.post('/addresses/standardize', limiter('address', 120, 60), (req, res) => {
    // Parsed whole here so a refused field is named where the client sent it (`address.line1`).
    res.json(services.addresses.suggest(parseBody(StandardizeAddressRequest, req).address));
  });

  // Launch waiting room: the visitor id is minted and signed by us so nobody can join the lottery twice by inventing ids.
  router.post('/waiting-room/:roomId/join', limiter('waiting-room', 60, 60), async (req, res) => {
    const { roomId } = parseParams(RoomParam, req);
    const visitor = services.visitors.resolve(req.header('x-visitor-token'));
    res.setHeader('X-Visitor-Token', visitor.token);
    res.json({ ...(await services.waitingRoom.join(roomId, visitor.id)), visitorToken: visitor.token });
  });
  router.get('/waiting-room/:roomId/status', async (req, res) => {
    const { roomId } = parseParams(RoomParam, req);
    const visitor = services.visitors.verify(req.header('x-visitor-token'));
    res.json(await services.waitingRoom.status(roomId, visitor));
  });

  // A guest proves ownership with the order number plus the purchaser email or billing ZIP.
  router.post('/orders/lookup', limiter('order-lookup', 10, 60), async (req, res) => {
    res.json(await orders.guestLookup(req.body));
  });

  router.get('/customers/me/orders', guards.customer.requireCustomer, async (req, res) => {
    const { page } = parseQuery(z.object({ page: z.coerce.number().int().min(1).default(1) }), req);
    res.json(await orders.listForCustomer(customerPrincipal(req).customerId, page));
  });
  router.get('/customers/me/orders/:orderNumber', guards.customer.requireCustomer, async (req, res) => {
    const order = await orders.findByNumber(parseParams(OrderNumberParam, req).orderNumber);
    if (!order || order.customerId !== customerPrincipal(req).customerId) throw new NotFoundError('order');
    res.json(orders.view(order));
  });
  router.get('/customers/me/cards', guards.customer.requireCustomer, async (req, res) => {
    res.json({ items: await vault.listSaved(customerPrincipal(req).customerId) });
  });
  router.delete('/customers/me/cards/:cardToken', guards.customer.requireCustomer, async (req, res) => {
    await vault.deleteSaved(customerPrincipal(req).customerId, parseParams(CardTokenParam, req).cardToken);
    res.status(204).end();
  });

  // --- staff: phone orders, order view, status changes ---
  const staff = new StaffRouter(guards.staff, '/api/staff');

  staff.post('/orders', 'orders:place_phone', async (req, res) => {
    const principal = staffPrincipal(req);
    const body = parseBody(PhoneOrderRequest, req);
    const run = async () => ({ status: 201, body: await checkout.placeOrder(body.order, { channel: 'phone', customerId: body.customerId, staffUserId: principal.staffUserId, ip: clientIp(req) }) });
    const key = req.header('idempotency-key');
    const result = key ? await idempotency.run(`phone-order:${principal.staffUserId}`, key, body, run) : { ...(await run()), replayed: false };
    await audit.record({ actor: principal, action: 'order.create', resource: { type: 'order', id: (result.body as { orderNumber?: string }).orderNumber }, outcome: 'success', ip: clientIp(req), details: { channel: 'phone', customerId: body.customerId } });
    res.status(result.status).json(result.body);
  });

  staff.get('/orders', 'orders:read', async (req, res) => {
    const principal = staffPrincipal(req);
    const query = parseQuery(StaffOrderQuery, req);
    const filter = query.status ? { status: query.status } : {};
    const [items, total] = await Promise.all([
      orders.model.find(filter).sort({ placedAt: -1 }).skip((query.page - 1) * query.pageSize).limit(query.pageSize).lean(),
      orders.model.countDocuments(filter),
    ]);
    await audit.record({ actor: principal, action: 'order.list', resource: { type: 'order' }, outcome: 'success', ip: clientIp(req), details: { count: items.length, status: query.status ?? null } });
    res.json({ items: items.map((o) => ({ ...orders.view(o as never), orderId: o._id, customerId: o.customerId, purchaserName: `${o.purchaser.firstName} ${o.purchaser.lastName}` })), page: query.page, pageSize: query.pageSize, total });
  });

  staff.get('/orders/:orderNumber', 'orders:read', async (req, res) => {
    const principal = staffPrincipal(req);
    const order = await orders.findByNumber(parseParams(OrderNumberParam, req).orderNumber);
    await audit.record({ actor: principal, action: 'order.read', resource: { type: 'order', id: order?._id ?? String(req.params.orderNumber) }, outcome: order ? 'success' : 'failure', ip: clientIp(req) });
    if (!order) throw new NotFoundError('order');
    res.json({
      ...orders.view(order),
      orderId: order._id,
      customerId: order.customerId,
      purchaser: order.purchaser,
      billingAddress: order.billingAddress,
      shipmentAddresses: order.shipments.map((s) => ({ address: s.address, recipient: s.recipient, gift: s.gift })),
      fraud: { score: order.fraud?.score ?? null, decision: order.fraud?.decision ?? null, fired: order.fraud?.fired ?? [] },
      statusHistory: order.statusHistory,
      placedBy: order.placedBy,
    });
  });

  staff.post('/orders/:orderNumber/cancel', 'orders:cancel', async (req, res) => {
    const principal = staffPrincipal(req);
    const { reason } = parseBody(CancelOrderRequest, req);
    const order = await orders.findByNumber(parseParams(OrderNumberParam, req).orderNumber);
    if (!order) throw new NotFoundError('order');
    const updated = await services.orderLifecycle.cancel(order._id, { actor: `staff:${principal.username}`, reason });
    await audit.record({ actor: principal, action: 'order.cancel', resource: { type: 'order', id: order._id }, outcome: 'success', ip: clientIp(req) });
    res.json(orders.view(updated));
  });

  staff.post('/orders/:orderNumber/fulfilment', 'orders:fulfil', async (req, res) => {
    const principal = staffPrincipal(req);
    const change = parseBody(StatusChangeRequest, req);
    const order = await orders.findByNumber(parseParams(OrderNumberParam, req).orderNumber);
    if (!order) throw new NotFoundError('order');
    const updated = await services.orderLifecycle.advanceFulfilment(order._id, change.to as OrderStatus, { actor: `staff:${principal.username}`, reason: change.reason, carrier: change.carrier, trackingNumber: change.trackingNumber });
    await audit.record({ actor: principal, action: 'order.status_change', resource: { type: 'order', id: order._id }, outcome: 'success', ip: clientIp(req), details: { to: change.to } });
    res.json(orders.view(updated));
  });

  staff.post('/launches', 'catalog:manage', async (req, res) => {
    const principal = staffPrincipal(req);
    const body = parseBody(OpenLaunchRequest, req);
    await services.waitingRoom.openRoom({ roomId: body.sku, opensAt: body.opensAt, admitPerSecond: body.admitPerSecond });
    await audit.record({ actor: principal, action: 'launch.open_room', resource: { type: 'product', id: body.sku }, outcome: 'success', ip: clientIp(req) });
    res.status(201).json(await services.waitingRoom.roomStats(body.sku));
  });
  staff.get('/launches/:roomId', 'catalog:manage', async (req, res) => {
    res.json(await services.waitingRoom.roomStats(parseParams(RoomParam, req).roomId));
  });
  staff.delete('/launches/:roomId', 'catalog:manage', async (req, res) => {
    await services.waitingRoom.closeRoom(parseParams(RoomParam, req).roomId);
    res.status(204).end();
  });

  return { router, staff };
}
