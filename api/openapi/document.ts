import { z } from 'zod';
import { escapeHtml } from '../../platform/html.ts';
import type { StaffRouteSpec } from '../http/staff-router.ts';
import { roleHas, STAFF_ROLES } from '../staff/permissions.ts';
import { ErrorBodySchema, normalisePath, OperationRegistry, type ErrorStatus, type NamedSchema, type OperationSpec, type SchemaSource } from './registry.ts';

/**
 * Builds the OpenAPI 3.1 document from the operation registry and the staff routes the app really
 * mounted, and renders it as a plain HTML reference (no CDN is reachable for a Swagger UI, and a
 * static page needs no script).
 */

type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, unknown>;
    securitySchemes: Record<string, unknown>;
  };
}

export interface OpenApiOperation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<string, unknown>;
  security?: Record<string, string[]>[];
  'x-permission'?: string;
}

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

const TAGS: { name: string; description: string }[] = [
  { name: 'Catalog', description: 'Products on sale.' },
  { name: 'Carts', description: 'Guest and customer carts.' },
  { name: 'Orders', description: 'Placing orders, guest lookup and order history.' },
  { name: 'Addresses', description: 'Postal-format suggestions the shopper may accept or decline.' },
  { name: 'Waiting room', description: 'The line in front of a limited launch.' },
  { name: 'Customer account', description: 'Registration, sign-in and self-service.' },
  { name: 'Staff session', description: 'Staff sign-in; open to any signed-in staff member.' },
  { name: 'Meta', description: 'About the API itself.' },
];

const ERROR_RESPONSES: Record<ErrorStatus | 'default', { name: string; description: string; retryAfter?: boolean }> = {
  400: { name: 'ValidationFailed', description: 'The input is malformed; `error.fields` names each bad field.' },
  401: { name: 'Unauthenticated', description: 'No valid session: sign in (again).' },
  402: { name: 'PaymentFailed', description: 'The card was declined or failed verification.' },
  403: { name: 'Forbidden', description: 'Known, but not allowed (a staff role without the permission, or a launch that needs a waiting-room admission).' },
  404: { name: 'NotFound', description: 'No such resource, or not yours.' },
  409: { name: 'Conflict', description: 'A state or idempotency conflict.' },
  422: { name: 'RuleBroken', description: 'Well-formed but breaks a business rule: a limit, sold out, an illegal transition.' },
  429: { name: 'RateLimited', description: 'Too many attempts; `error.details.retryAfterSeconds` says when to retry.', retryAfter: true },
  503: { name: 'Unavailable', description: 'A dependency is down; retry later.' },
  default: { name: 'UnexpectedError', description: 'A bug (500) or an unavailable dependency (503). Quote `error.requestId` to support.' },
};

export interface BuildOptions {
  registry: OperationRegistry;
  /** app.locals.staffRoutes: every StaffRouter route with the permission its guard requires. */
  staffRoutes: readonly StaffRouteSpec[];
  version: string;
}

/**
 * The registered operations with the staff routes folded in: a registered `staff` operation takes
 * its permission from the route list; a staff route nobody registered is still documented, with
 * its permission and without schemas. `unmatched` lists registered `staff` operations with no
 * mounted route (stale entries, left out of the document).
 */
export function collectOperations(registry: OperationRegistry, staffRoutes: readonly StaffRouteSpec[]): { operations: OperationSpec[]; unmatched: OperationSpec[] } {
  const mounted = new Map(staffRoutes.map((route) => [OperationRegistry.key(route.method, route.path), route]));
  const operations: OperationSpec[] = [];
  const unmatched: OperationSpec[] = [];
  const seen = new Set<string>();
  for (const op of registry.list()) {
    const key = OperationRegistry.key(op.method, op.path);
    seen.add(key);
    if (op.access !== 'staff') {
      operations.push(op);
      continue;
    }
    const route = mounted.get(key);
    if (route) operations.push({ ...op, permission: route.permission });
    else unmatched.push(op);
  }
  for (const [key, route] of mounted) {
    if (seen.has(key)) continue;
    seen.add(key);
    operations.push(undocumentedStaffOperation(route));
  }
  return { operations, unmatched };
}

function undocumentedStaffOperation(route: StaffRouteSpec): OperationSpec {
  const area = normalisePath(route.path).split('/')[3] ?? 'other';
  return {
    method: route.method,
    path: route.path,
    summary: `${route.method.toUpperCase()} ${toOpenApiPath(route.path)}`,
    description: 'Request and response schemas are not documented yet; see the route handler.',
    tags: [`Staff: ${area}`],
    access: 'staff',
    permission: route.permission,
    responses: { 200: { description: 'Success.' } },
    errors: route.method === 'get' ? [] : [400],
  };
}

export function buildOpenApiDocument(options: BuildOptions): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = { ErrorBody: toJsonSchema(ErrorBodySchema, 'output', 'ErrorBody', {}) };
  const { operations } = collectOperations(options.registry, options.staffRoutes);
  const operationIds = new Set<string>();
  const paths: OpenApiDocument['paths'] = {};

  const schemaFor = (source: SchemaSource, io: 'input' | 'output', owner: string): JsonSchema => {
    if (!isNamed(source)) return toJsonSchema(source, io, owner, schemas);
    // Inputs and outputs of one zod schema differ (defaults, transforms): a name means one direction.
    const name = source.component;
    if (!schemas[name]) schemas[name] = toJsonSchema(source.schema, io, name, schemas);
    return { $ref: `#/components/schemas/${name}` };
  };

  for (const op of [...operations].sort(byPath)) {
    const path = toOpenApiPath(op.path);
    const operationId = uniqueId(operationIdOf(op), operationIds);
    const parameters = [...pathParameters(op, operationId, schemas), ...queryParameters(op, operationId, schemas), ...headerParameters(op, operationId, schemas)];
    const operation: OpenApiOperation = {
      operationId,
      tags: op.tags,
      summary: op.summary,
      ...(describe(op) ? { description: describe(op) } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaFor(op.body, 'input', `${operationId}Body`) } } } } : {}),
      responses: {},
      ...security(op),
      ...(op.permission ? { 'x-permission': op.permission } : {}),
    };
    for (const [status, response] of Object.entries(op.responses)) {
      operation.responses[status] = {
        description: response.description,
        ...(response.headers ? { headers: Object.fromEntries(Object.entries(response.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) } : {}),
        ...(response.schema ? { content: { 'application/json': { schema: schemaFor(response.schema, 'output', `${operationId}${status}`) } } } : {}),
      };
    }
    for (const status of errorStatuses(op)) operation.responses[String(status)] = { $ref: `#/components/responses/${ERROR_RESPONSES[status].name}` };
    operation.responses.default = { $ref: `#/components/responses/${ERROR_RESPONSES.default.name}` };
    (paths[path] ??= {})[op.method] = operation;
  }

  const usedTags = new Set(operations.flatMap((op) => op.tags));
  const tags = [
    ...TAGS.filter((tag) => usedTags.has(tag.name)),
    ...[...usedTags].filter((name) => !TAGS.some((tag) => tag.name === name)).sort().map((name) => ({ name })),
  ];

  return {
    openapi: '3.1.0',
    info: {
      title: 'mintdesk API',
      version: options.version,
      description:
        'The store\'s checkout, order and account API, and the staff API behind the contact center. Money is in integer cents (USD). ' +
        'Every failure answers with `{ error: { code, message, fields?, details?, requestId? } }`; `code` is stable and meant for programs. ' +
        'Customers and staff sign in for a bearer token (`Authorization: Bearer <token>`); staff routes also need the permission named on each.',
    },
    tags,
    paths,
    components: {
      schemas,
      responses: Object.fromEntries(
        Object.values(ERROR_RESPONSES).map((entry) => [
          entry.name,
          {
            description: entry.description,
            ...(entry.retryAfter ? { headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } } } } : {}),
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
          },
        ]),
      ),
      securitySchemes: {
        customerBearer: { type: 'http', scheme: 'bearer', description: 'A customer session token from POST /api/customers/login or /register.' },
        staffBearer: { type: 'http', scheme: 'bearer', description: 'A staff session token from POST /api/staff/login. Sessions end after idle time and at a fixed maximum.' },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// zod to JSON Schema

const isNamed = (source: SchemaSource): source is NamedSchema => typeof (source as NamedSchema).component === 'string';

/**
 * Request bodies and parameters are documented as the client sends them (`io: 'input'`: before
 * defaults and transforms), responses as the server writes them. Refinements (cross-field rules)
 * have no JSON Schema form; the error body names the field when one fails.
 */
function toJsonSchema(schema: z.ZodType, io: 'input' | 'output', owner: string, components: Record<string, JsonSchema>): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return hoistDefinitions(json, owner, components);
}

/**
 * zod puts recursive parts under `$defs` with document-relative refs (`#/$defs/x`); inside an
 * OpenAPI document those must live under components, so move them and rewrite the refs.
 */
function hoistDefinitions(json: JsonSchema, owner: string, components: Record<string, JsonSchema>): JsonSchema {
  const defs = json.$defs as Record<string, JsonSchema> | undefined;
  if (!defs) return json;
  delete json.$defs;
  const renamed = new Map(Object.keys(defs).map((name) => [`#/$defs/${name}`, `#/components/schemas/${owner}_${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`]));
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== 'object') return node;
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, key === '$ref' && typeof value === 'string' ? (renamed.get(value) ?? value) : rewrite(value)]));
  };
  for (const [name, def] of Object.entries(defs)) components[renamed.get(`#/$defs/${name}`)!.split('/').pop()!] = rewrite(def) as JsonSchema;
  return rewrite(json) as JsonSchema;
}

function objectProperties(schema: z.ZodType | undefined, owner: string, components: Record<string, JsonSchema>): { properties: Record<string, JsonSchema>; required: Set<string> } {
  if (!schema) return { properties: {}, required: new Set() };
  const json = toJsonSchema(schema, 'input', owner, components);
  return { properties: (json.properties as Record<string, JsonSchema> | undefined) ?? {}, required: new Set((json.required as string[] | undefined) ?? []) };
}

function pathParameters(op: OperationSpec, owner: string, components: Record<string, JsonSchema>): OpenApiParameter[] {
  const { properties } = objectProperties(op.params, `${owner}Params`, components);
  return [...op.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(([, name]) => {
    const schema = properties[name!] ?? { type: 'string' };
    return { name: name!, in: 'path', required: true, ...(typeof schema.description === 'string' ? { description: schema.description } : {}), schema };
  });
}

function queryParameters(op: OperationSpec, owner: string, components: Record<string, JsonSchema>): OpenApiParameter[] {
  const { properties, required } = objectProperties(op.query, `${owner}Query`, components);
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
    schema,
  }));
}

function headerParameters(op: OperationSpec, owner: string, components: Record<string, JsonSchema>): OpenApiParameter[] {
  return (op.headers ?? []).map((header) => ({
    name: header.name,
    in: 'header',
    required: header.required ?? false,
    description: header.description,
    schema: header.schema ? toJsonSchema(header.schema, 'input', `${owner}${header.name}`, components) : { type: 'string' },
  }));
}

function errorStatuses(op: OperationSpec): ErrorStatus[] {
  const statuses = new Set<ErrorStatus>(op.errors ?? []);
  if (op.params || op.query || op.body || op.headers?.some((h) => h.required)) statuses.add(400);
  if (op.access === 'customer' || op.access === 'staff_session' || op.access === 'staff') statuses.add(401);
  if (op.access === 'staff') statuses.add(403);
  return [...statuses].sort((a, b) => a - b);
}

function security(op: OperationSpec): Pick<OpenApiOperation, 'security'> {
  switch (op.access) {
    case 'customer':
      return { security: [{ customerBearer: [] }] };
    case 'customer_optional':
      // Either anonymous (a guest) or a customer.
      return { security: [{}, { customerBearer: [] }] };
    case 'staff':
    case 'staff_session':
      return { security: [{ staffBearer: [] }] };
    default:
      return { security: [] };
  }
}

function describe(op: OperationSpec): string | undefined {
  const parts: string[] = [];
  if (op.access === 'staff' && op.permission) {
    const roles = STAFF_ROLES.filter((role) => roleHas(role, op.permission!));
    parts.push(`Requires permission \`${op.permission}\` (roles: ${roles.join(', ') || 'none'}).`);
  } else if (op.access === 'staff_session') {
    parts.push('Any signed-in staff member.');
  } else if (op.access === 'customer') {
    parts.push('Requires a signed-in customer.');
  } else if (op.access === 'customer_optional') {
    parts.push('Guests may call this; with a customer token the call belongs to that account.');
  }
  if (op.description) parts.push(op.description);
  return parts.length ? parts.join(' ') : undefined;
}

export function toOpenApiPath(path: string): string {
  return normalisePath(path).replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operationIdOf(op: OperationSpec): string {
  const words = normalisePath(op.path)
    .split('/')
    .filter((segment) => segment && segment !== 'api')
    .map((segment) => (segment.startsWith(':') ? `By-${segment.slice(1)}` : segment))
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+/))
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1));
  return `${op.method}${words.join('')}`;
}

function uniqueId(id: string, used: Set<string>): string {
  let candidate = id;
  for (let n = 2; used.has(candidate); n += 1) candidate = `${id}${n}`;
  used.add(candidate);
  return candidate;
}

const METHOD_ORDER = ['get', 'post', 'put', 'patch', 'delete'];
function byPath(a: OperationSpec, b: OperationSpec): number {
  const pa = normalisePath(a.path);
  const pb = normalisePath(b.path);
  return pa === pb ? METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method) : pa < pb ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------
// The HTML reference

/** Shows `code spans` as <code> and escapes everything else; the only markup descriptions use. */
const prose = (text: string): string =>
  text
    .split(/`([^`]+)`/g)
    .map((part, index) => (index % 2 === 1 ? `<code>${escapeHtml(part)}</code>` : escapeHtml(part)))
    .join('');

function resolveRef(document: OpenApiDocument, node: unknown): { name?: string; value: unknown } {
  const ref = (node as { $ref?: unknown } | undefined)?.$ref;
  if (typeof ref !== 'string') return { value: node };
  const [, section, name] = ref.match(/^#\/components\/(schemas|responses)\/(.+)$/) ?? [];
  if (!section || !name) return { value: node };
  return { name, value: (document.components[section as 'schemas' | 'responses'] as Record<string, unknown>)[name] };
}

function schemaBlock(document: OpenApiDocument, schema: unknown, label: string): string {
  const { name, value } = resolveRef(document, schema);
  return `<details class="schema"><summary>${escapeHtml(label)}${name ? ` <code>${escapeHtml(name)}</code>` : ''}</summary><pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre></details>`;
}

function typeOf(schema: JsonSchema): string {
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (typeof schema.type === 'string') return schema.format ? `${schema.type} (${String(schema.format)})` : schema.type;
  if (Array.isArray(schema.type)) return schema.type.join(' | ');
  return 'any';
}

function renderOperation(document: OpenApiDocument, path: string, method: string, op: OpenApiOperation): string {
  const rows = (op.parameters ?? [])
    .map((p) => `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${escapeHtml(typeOf(p.schema))}</code></td><td>${prose(p.description ?? '')}</td></tr>`)
    .join('');
  const auth = op.security?.some((s) => 'staffBearer' in s)
    ? 'Staff bearer token'
    : op.security?.some((s) => Object.keys(s).length === 0) && op.security.some((s) => 'customerBearer' in s)
      ? 'Optional customer bearer token'
      : op.security?.some((s) => 'customerBearer' in s)
        ? 'Customer bearer token'
        : 'None';
  const responses = Object.entries(op.responses)
    .map(([status, response]) => {
      const resolved = resolveRef(document, response).value as { description?: string; content?: { 'application/json'?: { schema?: unknown } } };
      const schema = resolved.content?.['application/json']?.schema;
      return `<tr><td><code>${escapeHtml(status)}</code></td><td>${prose(resolved.description ?? '')}${schema ? schemaBlock(document, schema, 'Body') : ''}</td></tr>`;
    })
    .join('');
  return `<section class="operation" id="${escapeHtml(op.operationId)}">
<h3><span class="method method-${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
<p class="summary">${prose(op.summary)}</p>
${op.description ? `<p>${prose(op.description)}</p>` : ''}
<p class="auth"><strong>Authentication:</strong> ${auth}${op['x-permission'] ? ` · <strong>Permission:</strong> <code>${escapeHtml(op['x-permission'])}</code>` : ''}</p>
${rows ? `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Required</th><th>Type</th><th>Description</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
${op.requestBody ? `<h4>Request body</h4>${schemaBlock(document, op.requestBody.content['application/json'].schema, 'JSON schema')}` : ''}
<h4>Responses</h4><table class="responses"><thead><tr><th>Status</th><th>Meaning</th></tr></thead><tbody>${responses}</tbody></table>
</section>`;
}

const DOCS_CSS = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2433;background:#f7f4ec}
header{background:#14213d;color:#f7f4ec;padding:1.5rem 2rem}header h1{margin:0;font-family:Georgia,serif;font-weight:normal}
header p{margin:.5rem 0 0;max-width:60rem;color:#d9d2bf}header a{color:#e9c46a}
main{display:grid;grid-template-columns:18rem 1fr;gap:2rem;padding:2rem;max-width:90rem;margin:auto}
nav{position:sticky;top:1rem;align-self:start;max-height:calc(100vh - 2rem);overflow:auto;font-size:13px}
nav ul{list-style:none;padding-left:.75rem;margin:.25rem 0 1rem}nav a{color:#14213d;text-decoration:none;overflow-wrap:anywhere}nav a:hover{text-decoration:underline}
h2{font-family:Georgia,serif;font-weight:normal;border-bottom:2px solid #b08d3c;padding-bottom:.25rem;margin-top:2.5rem}
.operation{background:#fff;border:1px solid #e2dccb;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}
.operation h3{margin:0;font-size:16px}.summary{font-weight:600;margin:.5rem 0}
.method{display:inline-block;min-width:4.2rem;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:2px 6px;margin-right:.5rem}
.method-get{background:#2a6f97}.method-post{background:#2d6a4f}.method-put{background:#7b5e2a}.method-patch{background:#8a5a44}.method-delete{background:#9b2226}
table{border-collapse:collapse;width:100%;font-size:13px;margin:.25rem 0 .75rem}th,td{text-align:left;border-bottom:1px solid #eee;padding:.3rem .5rem;vertical-align:top}
pre{background:#14213d;color:#f1ead6;padding:.75rem;border-radius:6px;overflow:auto;max-height:28rem;font-size:12px}
code{font-family:ui-monospace,"SFMono-Regular",Menlo,monospace;font-size:.92em}details summary{cursor:pointer;color:#2a6f97}
@media (max-width:60rem){main{grid-template-columns:1fr}nav{position:static;max-height:none}}`;

/** A readable, script-free reference page of the whole document. */
export function renderDocsPage(document: OpenApiDocument): string {
  const byTag = new Map<string, { path: string; method: string; op: OpenApiOperation }[]>(document.tags.map((tag) => [tag.name, []]));
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags[0] ?? 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push({ path, method, op });
    }
  }
  const descriptions = new Map(document.tags.map((tag) => [tag.name, tag.description]));
  const anchor = (tag: string) => `tag-${tag.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  const nav = [...byTag]
    .map(
      ([tag, ops]) =>
        `<li><a href="#${anchor(tag)}">${escapeHtml(tag)}</a><ul>${ops.map(({ path, method, op }) => `<li><a href="#${escapeHtml(op.operationId)}">${method.toUpperCase()} ${escapeHtml(path)}</a></li>`).join('')}</ul></li>`,
    )
    .join('');
  const sections = [...byTag]
    .map(
      ([tag, ops]) =>
        `<h2 id="${anchor(tag)}">${escapeHtml(tag)}</h2>${descriptions.get(tag) ? `<p>${prose(descriptions.get(tag)!)}</p>` : ''}${ops.map(({ path, method, op }) => renderOperation(document, path, method, op)).join('\n')}`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(document.info.title)} ${escapeHtml(document.info.version)}</title><style>${DOCS_CSS}</style></head>
<body><header><h1>${escapeHtml(document.info.title)} <small>${escapeHtml(document.info.version)}</small></h1><p>${prose(document.info.description)}</p>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI ${escapeHtml(document.openapi)}).</p></header>
<main><nav aria-label="Operations"><ul>${nav}</ul></nav><div>${sections}</div></main></body></html>`;
}
