import { expect } from 'chai';
import type { StaffRouteSpec } from '../../api/http/staff-router.ts';
import { collectOperations, toOpenApiPath, type OpenApiDocument } from '../../api/openapi/document.ts';
import { apiOperations } from '../../api/openapi/registry.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';

type JsonSchema = Record<string, unknown>;

/** Follows a local `$ref` (`#/components/...`) through the document. */
function resolvePointer(document: unknown, ref: string): unknown {
  expect(ref, `only local refs: ${ref}`).to.match(/^#\//);
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), document);
}

function deref(document: OpenApiDocument, node: unknown): JsonSchema {
  const ref = (node as { $ref?: string }).$ref;
  return (ref ? resolvePointer(document, ref) : node) as JsonSchema;
}

function collectRefs(node: unknown, refs: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item) => collectRefs(item, refs));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') refs.push(value);
      else collectRefs(value, refs);
    }
  }
  return refs;
}

describe('OpenAPI document and API reference page', function () {
  this.timeout(60_000);
  let ctx: TestContext;
  let document: OpenApiDocument;
  let staffRoutes: StaffRouteSpec[];

  before(async () => {
    ctx = await createTestContext();
    const response = await api<OpenApiDocument>(ctx.baseUrl, 'GET', '/api/openapi.json');
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    document = response.body;
    // The same list the served document was built from: every StaffRouter the app mounts.
    staffRoutes = ctx.runtime.createHttpApp().locals.staffRoutes as StaffRouteSpec[];
  });
  after(async () => ctx?.close());

  it('is an OpenAPI 3.1 document whose references all resolve', () => {
    expect(document.openapi).to.match(/^3\.1\.\d+$/);
    expect(document.info.title).to.be.a('string').and.not.equal('');
    expect(Object.keys(document.paths).length).to.be.greaterThan(40);
    const refs = collectRefs(document);
    expect(refs.length).to.be.greaterThan(0);
    for (const ref of new Set(refs)) expect(resolvePointer(document, ref), `dangling ${ref}`).to.not.equal(undefined);
    const operationIds = Object.values(document.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId));
    expect(new Set(operationIds).size, 'operationIds are unique').to.equal(operationIds.length);
  });

  it('only documents paths the app really routes', async () => {
    const probes = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ path, method })));
    const unrouted: string[] = [];
    // Sequential: some of these share a rate limiter, and the machine is shared.
    for (const { path, method } of probes) {
      const url = path.replace(/\{[^}]+\}/g, 'PROBE-1');
      const response = await api(ctx.baseUrl, method.toUpperCase(), url, ['post', 'put', 'patch'].includes(method) ? { body: {} } : {});
      if (response.body?.error?.code === 'route.not_found') unrouted.push(`${method.toUpperCase()} ${path}`);
    }
    expect(unrouted).to.deep.equal([]);
    // The probe can tell: an unknown path is reported as route.not_found.
    expect((await api(ctx.baseUrl, 'GET', '/api/no-such-route')).body.error.code).to.equal('route.not_found');
  });

  it('covers the public, customer and staff-session operations', () => {
    const required = [
      'get /api/catalog/products',
      'get /api/catalog/products/{sku}',
      'post /api/carts',
      'get /api/carts/{cartId}',
      'put /api/carts/{cartId}/lines',
      'post /api/orders',
      'post /api/orders/lookup',
      'get /api/customers/me/orders',
      'get /api/customers/me/orders/{orderNumber}',
      'post /api/addresses/standardize',
      'post /api/waiting-room/{roomId}/join',
      'get /api/waiting-room/{roomId}/status',
      'post /api/customers/register',
      'post /api/customers/login',
      'get /api/customers/me',
      'post /api/staff/login',
      'get /api/storefront/config',
    ];
    const missing = required.filter((entry) => {
      const [method, path] = entry.split(' ') as [string, string];
      return !document.paths[path]?.[method];
    });
    expect(missing).to.deep.equal([]);
    expect(document.paths['/api/customers/me']!.get!.security).to.deep.equal([{ customerBearer: [] }]);
    expect(document.paths['/api/catalog/products']!.get!.parameters!.map((p) => p.name)).to.include.members(['category', 'page', 'pageSize', 'sort']);
  });

  it('documents every mounted staff route with the permission its guard requires', () => {
    expect(staffRoutes.length).to.be.greaterThan(10);
    for (const route of staffRoutes) {
      const op = document.paths[toOpenApiPath(route.path)]?.[route.method];
      expect(op, `${route.method} ${route.path} documented`).to.not.equal(undefined);
      expect(op!['x-permission']).to.equal(route.permission);
      expect(op!.description).to.contain(`\`${route.permission}\``);
      expect(op!.security).to.deep.equal([{ staffBearer: [] }]);
      expect(op!.responses).to.include.keys('401', '403');
    }
    // A registered staff operation whose route is gone would be documented wrongly: none may be stale.
    expect(collectOperations(apiOperations(), staffRoutes).unmatched.map((op) => `${op.method} ${op.path}`)).to.deep.equal([]);
    const staffOrders = document.paths['/api/staff/orders']!.post!;
    expect(staffOrders.parameters!.map((p) => p.name)).to.include('Idempotency-Key');
  });

  it('describes POST /api/orders from the checkout schema: required parts, no extra fields, Idempotency-Key, common errors', () => {
    const op = document.paths['/api/orders']!.post!;
    const schema = deref(document, op.requestBody!.content['application/json'].schema);
    expect(schema.type).to.equal('object');
    expect(schema.required).to.include.members(['purchaser', 'billingAddress', 'shipments', 'payment', 'attestation']);
    expect(schema.additionalProperties).to.equal(false);
    const properties = schema.properties as Record<string, JsonSchema>;
    expect(properties.purchaser!.additionalProperties).to.equal(false);
    expect(properties.attestation!.required).to.include.members(['termsAccepted', 'ageConfirmed']);
    expect(properties).to.include.keys('cartId', 'lines', 'admissionToken');

    const key = op.parameters!.find((p) => p.name === 'Idempotency-Key');
    expect(key).to.include({ in: 'header', required: false });
    expect(op.security).to.deep.include({ customerBearer: [] });
    expect(op.responses).to.include.keys('201', '400', '402', '403', '409', '422', '429', 'default');
    const created = deref(document, (op.responses['201'] as { content: { 'application/json': { schema: unknown } } }).content['application/json'].schema);
    expect(created.required).to.include.members(['orderNumber', 'status', 'totals']);

    const badRequest = deref(document, op.responses['400']) as { content: { 'application/json': { schema: unknown } } };
    const errorBody = deref(document, badRequest.content['application/json'].schema);
    expect(errorBody.required).to.deep.equal(['error']);
    const error = (errorBody.properties as Record<string, JsonSchema>).error!;
    expect(error.required).to.include.members(['code', 'message']);
    expect(error.properties).to.include.keys('code', 'message', 'fields', 'details', 'requestId');
  });

  it('serves a readable, script-free HTML reference grouped by tag', async () => {
    const response = await api<string>(ctx.baseUrl, 'GET', '/api/docs');
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/html/);
    expect(response.headers.get('content-security-policy')).to.contain("default-src 'none'");
    const html = response.body;
    expect(html).not.to.match(/<script/i);
    for (const tag of ['Catalog', 'Orders', 'Waiting room', 'Staff session', 'Staff: orders']) expect(html).to.contain(`>${tag}</h2>`);
    expect(html).to.contain('<span class="method method-post">POST</span> <code>/api/orders</code>');
    expect(html).to.contain('Idempotency-Key');
    expect(html).to.contain('<code>orders:read</code>');
    // Descriptions show `code spans` as <code>.
    expect(html).to.contain('the <code>admissionToken</code> of that room');
    // Schemas are shown as escaped JSON, never as markup.
    expect(html).to.contain('&quot;additionalProperties&quot;: false');
  });
});
