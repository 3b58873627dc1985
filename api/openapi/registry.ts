import { z } from 'zod';
import { CancelOrderRequest, CartParam, OpenLaunchRequest, OrderNumberParam, PhoneOrderRequest, RoomParam, StaffOrderQuery } from '../checkout/schema.ts';
import { AddressSuggestion, StandardizeAddressRequest } from '../addresses/schema.ts';
import { auditQuerySchema } from '../audit/schema.ts';
import { CartView, SetCartLineRequest } from '../carts/schema.ts';
import { AdjustStock, CatalogAdminQuery, CatalogChange, CatalogQuery, CreateProduct, ProductAdmin, ProductPublic, skuSchema, UpdateProduct } from '../catalog/schema.ts';
import {
  ChangePasswordInput,
  AccountClosed,
  CloseAccountInput,
  ConsentInput,
  CustomerSearchQuery,
  customerIdSchema,
  LoginInput,
  PreferencesInput,
  ProfileUpdateInput,
  RegisterInput,
  SecurityQuestionLookupInput,
  SecurityQuestionResetInput,
  StaffUpdateInput,
} from '../customers/schema.ts';
import { GuestOrderLookup, OrderView, PlaceOrderRequest, StatusChangeRequest } from '../orders/schema.ts';
import { changeOwnPasswordSchema, changeRoleSchema, createStaffUserSchema, loginSchema, setPasswordSchema, staffUserParamsSchema, suspendSchema } from '../staff/schema.ts';
import type { Permission } from '../staff/permissions.ts';
import { PhoneLineStatus } from '../ivr/schema.ts';
import { StorefrontConfig } from '../storefront/routes.ts';
import { waitingRoomStatsSchema, waitingRoomStatusSchema } from '../waiting-room/schema.ts';

/**
 * What the API description is made of: one entry per operation, pointing at the zod schemas the
 * route parses with, so the document cannot drift from the validation. Staff routes registered in
 * app.locals.staffRoutes but not here still appear (with their permission), just without schemas.
 */

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * - `public`: no credentials.
 * - `customer`: a customer bearer token is required.
 * - `customer_optional`: guests may call it; a customer token attaches the call to the account.
 * - `staff_session`: any signed-in staff member.
 * - `staff`: a StaffRouter route; its permission is read from app.locals.staffRoutes, the same
 *   list the permission-matrix test walks, so the document states what the guard enforces.
 */
export type Access = 'public' | 'customer' | 'customer_optional' | 'staff_session' | 'staff';

/** A schema published under `components.schemas` with this name and referenced from operations. */
export interface NamedSchema {
  component: string;
  schema: z.ZodType;
}
export type SchemaSource = z.ZodType | NamedSchema;
export const component = (name: string, schema: z.ZodType): NamedSchema => ({ component: name, schema });

export interface HeaderParameter {
  name: string;
  description: string;
  required?: boolean;
  schema?: z.ZodType;
}

export interface ResponseSpec {
  description: string;
  schema?: SchemaSource;
  /** Response headers worth knowing, name to description. */
  headers?: Record<string, string>;
}

/** HTTP statuses answered with the common error body (api/http/errors.ts). */
export type ErrorStatus = 400 | 401 | 402 | 403 | 404 | 409 | 422 | 429 | 503;

export interface OperationSpec {
  method: HttpMethod;
  /** The path as express mounts it: `/api/carts/:cartId`. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  access: Access;
  /** Set from app.locals.staffRoutes for `staff` operations. */
  permission?: Permission;
  params?: z.ZodType;
  query?: z.ZodType;
  headers?: HeaderParameter[];
  body?: SchemaSource;
  /** Success responses by status. */
  responses: Record<number, ResponseSpec>;
  /**
   * Error statuses beyond those implied by the operation: 400 when it takes input, 401/403 by
   * access, and the default (500/503) are added when the document is built.
   */
  errors?: ErrorStatus[];
}

/** The error body every failing /api request answers with (api/http/errors.ts `ErrorBody`). */
export const ErrorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string().meta({ description: 'Stable machine code, e.g. `validation_failed`, `payment.card_declined`, `waiting_room.admission_required`. A field code under `input.` (such as `input.card_number_in_text`: a card number typed into a text field) is also the error\'s code.' }),
    message: z.string().meta({ description: 'A message fit to show the user.' }),
    fields: z
      .array(
        z.strictObject({
          path: z.string().meta({ description: 'Dotted path of the offending field, e.g. `shipments.0.address.postalCode`.' }),
          code: z.string().meta({ description: 'Stable code: `required`, `invalid_type`, `too_small`, `unrecognized_key`, `card.luhn`, `input.card_number_in_text`...' }),
          message: z.string(),
        }),
      )
      .optional()
      .meta({ description: 'Present on validation errors: one entry per bad field.' }),
    details: z.record(z.string(), z.unknown()).optional().meta({ description: 'Safe details a client may act on, e.g. `{ "retryAfterSeconds": 30 }`.' }),
    requestId: z.string().optional().meta({ description: 'Quote this to support; it matches the X-Request-Id response header.' }),
  }),
});

/** Operations keyed by method and path; registering one twice is a mistake worth failing on. */
export class OperationRegistry {
  private readonly operations = new Map<string, OperationSpec>();

  add(...specs: OperationSpec[]): this {
    for (const spec of specs) {
      const key = OperationRegistry.key(spec.method, spec.path);
      if (this.operations.has(key)) throw new Error(`OpenAPI operation registered twice: ${key}`);
      this.operations.set(key, spec);
    }
    return this;
  }

  get(method: HttpMethod, path: string): OperationSpec | undefined {
    return this.operations.get(OperationRegistry.key(method, path));
  }

  list(): OperationSpec[] {
    return [...this.operations.values()];
  }

  static key(method: string, path: string): string {
    return `${method.toUpperCase()} ${normalisePath(path)}`;
  }
}

/** `/api/staff/customers/` and `/api/staff/customers` are the same route to express. */
export function normalisePath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

// ---------------------------------------------------------------------------------------------
// Shapes composed from the domain schemas for responses

const pageOf = (item: z.ZodType) =>
  z.strictObject({ items: z.array(item), page: z.number().int().min(1), pageSize: z.number().int().min(1), total: z.number().int().min(0) });

const IDEMPOTENCY_KEY: HeaderParameter = {
  name: 'Idempotency-Key',
  description:
    'One key per checkout attempt (a UUID is ideal), reused on every retry of that attempt. A retry with the same key and body replays the first 201 ' +
    '(with `Idempotent-Replayed: true`); the same key with another body is 409 `idempotency.key_reused`; a retry while the first is still running is 409 ' +
    '`idempotency.in_progress`. A failed attempt frees the key, so the shopper can fix the form and resend with it. Keys live 24 hours.',
  schema: z.string().regex(/^[A-Za-z0-9_:.-]{8,128}$/),
};

const VISITOR_TOKEN = (required: boolean): HeaderParameter => ({
  name: 'X-Visitor-Token',
  description: required
    ? 'The token the join call returned: it identifies the visitor in line.'
    : 'The token from an earlier join (keeps the visitor\'s place); without one a new visitor id is minted.',
  required,
  schema: z.string().max(200),
});

const sessionResponse = 'The account and a session: `{ customer, session: { token, expiresAt, idleTimeoutSeconds } }`. Send the token as `Authorization: Bearer <token>`.';

// ---------------------------------------------------------------------------------------------
// The operations

/** Every documented operation of the HTTP API. Add an entry next to any new route. */
export function apiOperations(): OperationRegistry {
  const registry = new OperationRegistry();

  registry.add(
    {
      method: 'get',
      path: '/api/openapi.json',
      summary: 'This API description (OpenAPI 3.1)',
      tags: ['Meta'],
      access: 'public',
      responses: { 200: { description: 'The OpenAPI document.' } },
    },
    {
      method: 'get',
      path: '/api/storefront/config',
      summary: 'Storefront settings',
      description: 'Whether the store runs in test mode and, outside production only, the simulated test cards.',
      tags: ['Meta'],
      access: 'public',
      responses: { 200: { description: 'Storefront settings.', schema: component('StorefrontConfig', StorefrontConfig) } },
    },
    {
      method: 'get',
      path: '/api/phone-line',
      summary: 'The phone line now',
      description: "The store's number, the representatives' hours and whether a call reaches one now (outside the hours the IVR offers a callback).",
      tags: ['Meta'],
      access: 'public',
      responses: { 200: { description: 'The phone line.', schema: component('PhoneLineStatus', PhoneLineStatus) } },
    },
  );

  // --- catalog ---
  registry.add(
    {
      method: 'get',
      path: '/api/catalog/products',
      summary: 'List products on sale',
      description: 'Active, released products only. Availability is coarse (`in_stock`, `low`, `sold_out`): stock numbers are never shown. Unknown query parameters are a 400.',
      tags: ['Catalog'],
      access: 'public',
      query: CatalogQuery,
      responses: { 200: { description: 'A page of products.', schema: component('ProductPage', pageOf(ProductPublic)), headers: { 'Cache-Control': 'public, max-age=15' } } },
    },
    {
      method: 'get',
      path: '/api/catalog/products/:sku',
      summary: 'One product',
      tags: ['Catalog'],
      access: 'public',
      params: z.strictObject({ sku: skuSchema }),
      responses: { 200: { description: 'The product.', schema: component('ProductPublic', ProductPublic) } },
      errors: [404],
    },
  );

  // --- carts ---
  registry.add(
    {
      method: 'post',
      path: '/api/carts',
      summary: 'Create a cart',
      description: 'A guest cart, or the customer\'s when a customer token is sent. Carts expire 7 days after their last change.',
      tags: ['Carts'],
      access: 'customer_optional',
      responses: { 201: { description: 'The new, empty cart.', schema: component('CartView', CartView) } },
    },
    {
      method: 'get',
      path: '/api/carts/:cartId',
      summary: 'Read a cart',
      description: 'Another customer\'s or an expired cart is a 404.',
      tags: ['Carts'],
      access: 'customer_optional',
      params: CartParam,
      responses: { 200: { description: 'The cart, priced now.', schema: component('CartView', CartView) } },
      errors: [404],
    },
    {
      method: 'put',
      path: '/api/carts/:cartId/lines',
      summary: 'Set the quantity of one product in the cart',
      description: 'Quantity 0 removes the line. Household limits and stock are checked here so the shopper learns early, and again at checkout.',
      tags: ['Carts'],
      access: 'customer_optional',
      params: CartParam,
      body: component('SetCartLineRequest', SetCartLineRequest),
      responses: { 200: { description: 'The updated cart.', schema: component('CartView', CartView) } },
      errors: [404, 422],
    },
  );

  // --- orders ---
  registry.add(
    {
      method: 'post',
      path: '/api/orders',
      summary: 'Place an order',
      description:
        'The one checkout (web, phone and subscription orders share it). Send either `cartId` or `lines`. The card number and security code go to the vault ' +
        'and the gateway only. While a launch waiting room guards a sku, the order needs the `admissionToken` of that room (a list of tokens when rooms guard several of its skus; 403 `waiting_room.admission_required` or `waiting_room.admission_invalid` otherwise). ' +
        'Rate limited per client address.',
      tags: ['Orders'],
      access: 'customer_optional',
      headers: [IDEMPOTENCY_KEY],
      body: component('PlaceOrderRequest', PlaceOrderRequest),
      responses: {
        201: {
          description: 'The order was placed and awaits the fraud check.',
          schema: component('OrderView', OrderView),
          headers: { 'Idempotent-Replayed': '`true` when this is the stored answer to an earlier request with the same Idempotency-Key.' },
        },
      },
      errors: [402, 403, 404, 409, 422, 429],
    },
    {
      method: 'post',
      path: '/api/orders/lookup',
      summary: 'Look up an order as a guest',
      description: 'The order number plus the purchaser email or the billing ZIP. Every mismatch is the same 404, so the lookup cannot reveal which numbers exist.',
      tags: ['Orders'],
      access: 'public',
      body: component('GuestOrderLookup', GuestOrderLookup),
      responses: { 200: { description: 'The order.', schema: component('OrderView', OrderView) } },
      errors: [404, 429],
    },
    {
      method: 'get',
      path: '/api/customers/me/orders',
      summary: 'My order history',
      tags: ['Orders'],
      access: 'customer',
      query: z.object({ page: z.coerce.number().int().min(1).default(1) }),
      responses: { 200: { description: 'A page of the customer\'s orders, newest first.', schema: component('OrderPage', pageOf(OrderView)) } },
    },
    {
      method: 'get',
      path: '/api/customers/me/orders/:orderNumber',
      summary: 'One of my orders',
      tags: ['Orders'],
      access: 'customer',
      params: OrderNumberParam,
      responses: { 200: { description: 'The order.', schema: component('OrderView', OrderView) } },
      errors: [404],
    },
    {
      method: 'get',
      path: '/api/customers/me/cards',
      summary: 'My saved cards',
      description: 'Brand, last four digits and expiry only.',
      tags: ['Customer account'],
      access: 'customer',
      responses: { 200: { description: '`{ items: [{ cardToken, brand, last4, expMonth, expYear, ... }] }`' } },
    },
    {
      method: 'delete',
      path: '/api/customers/me/cards/:cardToken',
      summary: 'Forget a saved card',
      tags: ['Customer account'],
      access: 'customer',
      params: z.strictObject({ cardToken: z.string().min(10).max(80) }),
      responses: { 204: { description: 'The card was forgotten; past orders keep brand and last four.' } },
      errors: [404],
    },
  );

  // --- addresses and the waiting room ---
  registry.add(
    {
      method: 'post',
      path: '/api/addresses/standardize',
      summary: 'Suggest the postal form of an address',
      description: 'Formatting to USPS conventions only; not a check that the address exists. The suggestion may be declined: an order keeps what the shopper chose.',
      tags: ['Addresses'],
      access: 'public',
      body: component('StandardizeAddressRequest', StandardizeAddressRequest),
      responses: { 200: { description: 'The suggestion.', schema: component('AddressSuggestion', AddressSuggestion) } },
      errors: [429],
    },
    {
      method: 'post',
      path: '/api/waiting-room/:roomId/join',
      summary: 'Join the line for a launch',
      description: 'Before the room opens, early arrivals are placed by lottery; afterwards in order of arrival. Joining again with the same visitor token keeps the place.',
      tags: ['Waiting room'],
      access: 'public',
      params: RoomParam,
      headers: [VISITOR_TOKEN(false)],
      responses: {
        200: {
          description: 'The visitor\'s place. Keep `visitorToken` and send it as X-Visitor-Token when polling.',
          schema: component('WaitingRoomJoin', waitingRoomStatusSchema.extend({ visitorToken: z.string() })),
          headers: { 'X-Visitor-Token': 'The same visitor token as in the body.' },
        },
      },
      errors: [404, 429],
    },
    {
      method: 'get',
      path: '/api/waiting-room/:roomId/status',
      summary: 'My place in the line',
      description: 'Poll this; once `state` is `admitted` it carries the `admissionToken` to send with the order.',
      tags: ['Waiting room'],
      access: 'public',
      params: RoomParam,
      headers: [VISITOR_TOKEN(true)],
      responses: { 200: { description: 'The visitor\'s status.', schema: component('WaitingRoomStatus', waitingRoomStatusSchema) } },
    },
  );

  // --- customer accounts ---
  const account = (spec: Omit<OperationSpec, 'tags'>): OperationSpec => ({ ...spec, tags: ['Customer account'] });
  registry.add(
    account({ method: 'post', path: '/api/customers/register', summary: 'Register', description: 'Requires the 18+ warranty and the terms; tracking and marketing email are separate opt-ins.', access: 'public', body: component('RegisterInput', RegisterInput), responses: { 201: { description: sessionResponse } }, errors: [409, 429] }),
    account({ method: 'post', path: '/api/customers/login', summary: 'Sign in', description: '`login` is the login name or the email address. Attempts are limited per address and login.', access: 'public', body: component('CustomerLoginInput', LoginInput), responses: { 200: { description: sessionResponse } }, errors: [401, 429] }),
    account({ method: 'post', path: '/api/customers/logout', summary: 'Sign out', access: 'customer', responses: { 204: { description: 'The session has ended.' } } }),
    account({ method: 'get', path: '/api/customers/me', summary: 'My profile', access: 'customer', responses: { 200: { description: 'Profile, preferences, consents and saved addresses.' } } }),
    account({ method: 'patch', path: '/api/customers/me', summary: 'Change my details', access: 'customer', body: ProfileUpdateInput, responses: { 200: { description: 'The updated profile.' } }, errors: [409] }),
    account({ method: 'put', path: '/api/customers/me/preferences', summary: 'Set newsletter preferences', access: 'customer', body: PreferencesInput, responses: { 200: { description: 'The updated profile.' } } }),
    account({ method: 'post', path: '/api/customers/me/consents', summary: 'Grant or withdraw a consent', access: 'customer', body: ConsentInput, responses: { 201: { description: '`{ consents: [...] }`: the consent records now in force.' } } }),
    account({ method: 'post', path: '/api/customers/me/password', summary: 'Change my password', description: 'Ends the customer\'s other sessions.', access: 'customer', body: ChangePasswordInput, responses: { 204: { description: 'Changed.' } }, errors: [429] }),
    account({
      method: 'post',
      path: '/api/customers/me/close',
      summary: 'Close my account',
      description: 'Ends every session and forgets every saved card (the numbers are wiped from the vault); orders keep brand and last four.',
      access: 'customer',
      body: CloseAccountInput,
      responses: { 200: { description: 'Closed; says how many saved cards were forgotten.', schema: component('AccountClosed', AccountClosed) } },
      errors: [429],
    }),
    account({ method: 'post', path: '/api/customers/password-reset/question', summary: 'The security question for a login', access: 'public', body: SecurityQuestionLookupInput, responses: { 200: { description: 'The question text.' } }, errors: [429] }),
    account({ method: 'post', path: '/api/customers/password-reset/security-question', summary: 'Reset a password with the security answer', access: 'public', body: SecurityQuestionResetInput, responses: { 204: { description: 'The password was reset.' } }, errors: [401, 429] }),
  );

  // --- staff sessions (any signed-in staff member) ---
  const staffSession = (spec: Omit<OperationSpec, 'tags'>): OperationSpec => ({ ...spec, tags: ['Staff session'] });
  registry.add(
    staffSession({
      method: 'post',
      path: '/api/staff/login',
      summary: 'Staff sign-in',
      description: 'Admins and auditors also send `totpCode`. Repeated failures lock the account for a while; attempts are also limited per address.',
      access: 'public',
      body: component('StaffLoginInput', loginSchema),
      responses: { 200: { description: '`{ token, expiresAt, idleTimeoutMinutes, user }`. Send the token as `Authorization: Bearer <token>`.' } },
      errors: [401, 429],
    }),
    staffSession({ method: 'post', path: '/api/staff/logout', summary: 'Staff sign-out', access: 'staff_session', responses: { 204: { description: 'The session has ended.' } } }),
    staffSession({ method: 'get', path: '/api/staff/me', summary: 'The signed-in staff member', access: 'staff_session', responses: { 200: { description: 'The staff user and their permissions.' } } }),
    staffSession({ method: 'post', path: '/api/staff/me/password', summary: 'Change my staff password', access: 'staff_session', body: changeOwnPasswordSchema, responses: { 204: { description: 'Changed.' } } }),
  );

  // --- staff: permissions come from app.locals.staffRoutes when the document is built ---
  const staffOp = (tag: string, spec: Omit<OperationSpec, 'tags' | 'access'>): OperationSpec => ({ ...spec, tags: [tag], access: 'staff' });
  const accounts = (spec: Omit<OperationSpec, 'tags' | 'access'>) => staffOp('Staff: accounts', spec);
  const userParams = staffUserParamsSchema;
  registry.add(
    accounts({ method: 'get', path: '/api/staff/users', summary: 'List staff accounts', responses: { 200: { description: '`{ users: [...] }`' } } }),
    accounts({ method: 'post', path: '/api/staff/users', summary: 'Create a staff account', body: createStaffUserSchema, responses: { 201: { description: '`{ user, totpUri? }`: the TOTP enrolment URI is shown once for roles that need it.' } }, errors: [409] }),
    accounts({ method: 'get', path: '/api/staff/users/:staffUserId', summary: 'One staff account', params: userParams, responses: { 200: { description: '`{ user }`' } }, errors: [404] }),
    accounts({ method: 'post', path: '/api/staff/users/:staffUserId/role', summary: 'Change a role', description: 'Ends the member\'s sessions.', params: userParams, body: changeRoleSchema, responses: { 200: { description: 'The updated account.' } }, errors: [404, 422] }),
    accounts({ method: 'post', path: '/api/staff/users/:staffUserId/suspend', summary: 'Suspend an account', params: userParams, body: suspendSchema, responses: { 200: { description: '`{ user }`' } }, errors: [404, 422] }),
    accounts({ method: 'post', path: '/api/staff/users/:staffUserId/reactivate', summary: 'Reactivate an account', params: userParams, responses: { 200: { description: '`{ user }`' } }, errors: [404] }),
    accounts({ method: 'post', path: '/api/staff/users/:staffUserId/totp/reset', summary: 'Reset the second factor', params: userParams, responses: { 200: { description: 'The new enrolment URI, shown once.' } }, errors: [404] }),
    accounts({ method: 'post', path: '/api/staff/users/:staffUserId/sessions/revoke', summary: 'End every session of an account', params: userParams, responses: { 200: { description: 'How many sessions ended.' } }, errors: [404] }),
    accounts({ method: 'post', path: '/api/staff/users/:staffUserId/password', summary: 'Set a password', params: userParams, body: setPasswordSchema, responses: { 200: { description: '`{ user }`' } }, errors: [404] }),
  );

  registry.add(
    staffOp('Staff: audit', { method: 'get', path: '/api/staff/audit', summary: 'Search the audit trail', description: 'Reading the trail is itself recorded (filter names, not values).', query: auditQuerySchema, responses: { 200: { description: 'A page of entries.' } } }),
    staffOp('Staff: audit', { method: 'get', path: '/api/staff/audit/verify', summary: 'Verify the audit hash chain', responses: { 200: { description: '`{ ok, checked, firstBrokenSeq? }`' } } }),
  );

  const customersStaff = (spec: Omit<OperationSpec, 'tags' | 'access'>) => staffOp('Staff: customers', spec);
  registry.add(
    customersStaff({ method: 'get', path: '/api/staff/customers', summary: 'Search customers', description: 'By a personal identifier, never by card number. Every search is audited.', query: CustomerSearchQuery, responses: { 200: { description: 'Matching customers.' } } }),
    customersStaff({ method: 'get', path: '/api/staff/customers/:customerId', summary: 'One customer', description: 'The read is audited.', params: z.strictObject({ customerId: customerIdSchema }), responses: { 200: { description: 'The customer with consents and addresses.' } }, errors: [404] }),
    customersStaff({ method: 'patch', path: '/api/staff/customers/:customerId', summary: 'Change a customer\'s details on their behalf', params: z.strictObject({ customerId: customerIdSchema }), body: StaffUpdateInput, responses: { 200: { description: 'The updated customer.' } }, errors: [404, 409] }),
  );

  const catalogAdmin = (spec: Omit<OperationSpec, 'tags' | 'access'>) => staffOp('Staff: catalog', spec);
  const skuParam = z.strictObject({ sku: skuSchema });
  registry.add(
    catalogAdmin({ method: 'get', path: '/api/staff/catalog/products', summary: 'List every product', description: 'Including inactive and unreleased ones, with live stock.', query: CatalogAdminQuery, responses: { 200: { description: 'A page of products.', schema: component('ProductAdminPage', pageOf(ProductAdmin)) } } }),
    catalogAdmin({ method: 'post', path: '/api/staff/catalog/products', summary: 'Create a product', body: component('CreateProduct', CreateProduct), responses: { 201: { description: 'The product.', schema: component('ProductAdmin', ProductAdmin), headers: { Location: 'The product\'s URL.' } } }, errors: [409] }),
    catalogAdmin({ method: 'get', path: '/api/staff/catalog/products/:sku', summary: 'One product (admin view)', params: skuParam, responses: { 200: { description: 'The product.', schema: component('ProductAdmin', ProductAdmin) } }, errors: [404] }),
    catalogAdmin({ method: 'patch', path: '/api/staff/catalog/products/:sku', summary: 'Change a product', description: 'Stock moves only through stock adjustments.', params: skuParam, body: component('UpdateProduct', UpdateProduct), responses: { 200: { description: 'The product.', schema: component('ProductAdmin', ProductAdmin) } }, errors: [404] }),
    catalogAdmin({ method: 'post', path: '/api/staff/catalog/products/:sku/deactivate', summary: 'Take a product off sale', params: skuParam, responses: { 200: { description: 'The product.', schema: component('ProductAdmin', ProductAdmin) } }, errors: [404] }),
    catalogAdmin({ method: 'post', path: '/api/staff/catalog/products/:sku/stock-adjustments', summary: 'Add or write off stock', params: skuParam, body: component('AdjustStock', AdjustStock), responses: { 201: { description: 'The product after the adjustment.', schema: component('ProductAdmin', ProductAdmin) } }, errors: [404, 422] }),
    catalogAdmin({ method: 'get', path: '/api/staff/catalog/products/:sku/history', summary: 'A product\'s change history', params: skuParam, responses: { 200: { description: 'Changes, newest first.', schema: z.strictObject({ items: z.array(CatalogChange) }) } }, errors: [404] }),
  );

  const ordersStaff = (spec: Omit<OperationSpec, 'tags' | 'access'>) => staffOp('Staff: orders', spec);
  registry.add(
    ordersStaff({
      method: 'post',
      path: '/api/staff/orders',
      summary: 'Place a phone order',
      description: 'The same checkout and validation as the web; no waiting room. Audited.',
      headers: [IDEMPOTENCY_KEY],
      body: component('PhoneOrderRequest', PhoneOrderRequest),
      responses: { 201: { description: 'The order.', schema: component('OrderView', OrderView) } },
      errors: [402, 404, 409, 422],
    }),
    ordersStaff({ method: 'get', path: '/api/staff/orders', summary: 'List orders', description: 'Audited.', query: StaffOrderQuery, responses: { 200: { description: 'A page of orders with the purchaser name and ids.' } } }),
    ordersStaff({ method: 'get', path: '/api/staff/orders/:orderNumber', summary: 'One order with purchaser, addresses, fraud result and history', description: 'Audited.', params: OrderNumberParam, responses: { 200: { description: 'The order.' } }, errors: [404] }),
    ordersStaff({ method: 'post', path: '/api/staff/orders/:orderNumber/cancel', summary: 'Cancel an order', params: OrderNumberParam, body: CancelOrderRequest, responses: { 200: { description: 'The order.', schema: component('OrderView', OrderView) } }, errors: [404, 409, 422] }),
    ordersStaff({ method: 'post', path: '/api/staff/orders/:orderNumber/fulfilment', summary: 'Advance fulfilment (packed, shipped, delivered)', params: OrderNumberParam, body: component('StatusChangeRequest', StatusChangeRequest), responses: { 200: { description: 'The order.', schema: component('OrderView', OrderView) } }, errors: [404, 409, 422] }),
  );

  const launches = (spec: Omit<OperationSpec, 'tags' | 'access'>) => staffOp('Staff: launches', spec);
  registry.add(
    launches({ method: 'post', path: '/api/staff/launches', summary: 'Open a waiting room for a launch', body: OpenLaunchRequest, responses: { 201: { description: 'The room.', schema: component('WaitingRoomStats', waitingRoomStatsSchema) } }, errors: [409] }),
    launches({ method: 'get', path: '/api/staff/launches/:roomId', summary: 'Waiting-room figures', params: RoomParam, responses: { 200: { description: 'The room.', schema: component('WaitingRoomStats', waitingRoomStatsSchema) } }, errors: [404] }),
    launches({ method: 'delete', path: '/api/staff/launches/:roomId', summary: 'Close a waiting room', description: 'Orders for the sku no longer need an admission token.', params: RoomParam, responses: { 204: { description: 'Closed.' } } }),
  );

  return registry;
}
