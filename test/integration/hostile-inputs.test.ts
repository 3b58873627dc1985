import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import fc from 'fast-check';
import type { OpenApiDocument } from '../../api/openapi/document.ts';
import { roleHas, STAFF_ROLES, type Permission, type StaffRole } from '../../api/staff/permissions.ts';
import { signTwilioRequest } from '../../ivr/signature.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

/**
 * Issue 10, "inputs that crash": whatever a client sends (NUL, unpaired surrogates, huge strings,
 * wrong types, bodies labelled compressed that are not), no route answers 5xx. The routes come
 * from the served OpenAPI document, so a new route is covered without touching this file.
 */

const PUBLIC_BASE = 'https://ivr.hostile.test';
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

interface Operation {
  method: string;
  /** OpenAPI template, `/api/staff/orders/{orderNumber}`. */
  template: string;
  permission?: Permission;
  customer: boolean;
}

/** A path with each `{param}` replaced (values already percent-encoded). */
const fill = (template: string, values: string[]) => {
  let index = 0;
  return template.replace(/\{[^}]+\}/g, () => values[index++ % Math.max(1, values.length)] ?? 'x');
};

/** encodeURIComponent refuses unpaired surrogates; send what a client's broken encoder would. */
const encode = (value: string) => {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));
  }
};

describe('hostile inputs: no route answers 5xx', function () {
  this.timeout(180_000);
  let ctx: TestContext;
  let operations: Operation[];
  let fieldNames: string[];
  const tokens: Partial<Record<StaffRole | 'customer', string>> = {};

  const tokenFor = (operation: Operation) => {
    if (operation.permission) {
      const role = STAFF_ROLES.find((candidate) => roleHas(candidate, operation.permission!));
      return role ? tokens[role] : undefined;
    }
    return operation.customer ? tokens.customer : undefined;
  };

  async function send(method: string, path: string, options: { token?: string; body?: string | Blob; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${ctx.baseUrl}${path}`, { method: method.toUpperCase(), headers, ...(options.body !== undefined ? { body: options.body } : {}) });
    const text = await response.text();
    let body: { error?: { code?: string; fields?: { path: string; code: string }[] } } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    return { status: response.status, text, body, contentType: response.headers.get('content-type') ?? '' };
  }

  before(async () => {
    ctx = await createTestContext({ env: { PUBLIC_BASE_URL: PUBLIC_BASE } });
    const document = (await api<OpenApiDocument>(ctx.baseUrl, 'GET', '/api/openapi.json')).body;
    operations = Object.entries(document.paths).flatMap(([template, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method,
        template,
        ...(op['x-permission'] ? { permission: op['x-permission'] as Permission } : {}),
        customer: JSON.stringify(op.security ?? []).includes('customerBearer'),
      })),
    );
    // Field names the API knows, so random bodies also reach validation past "unknown field".
    const names = new Set<string>();
    JSON.stringify(document.components.schemas, (key, value: unknown) => {
      if (key === 'properties' && value && typeof value === 'object') for (const name of Object.keys(value)) names.add(name);
      return value;
    });
    fieldNames = [...names];

    const suffix = randomBytes(4).toString('hex');
    const registered = await api(ctx.baseUrl, 'POST', '/api/customers/register', {
      body: {
        firstName: 'Fuzz',
        lastName: 'Tester',
        email: `fuzz.${suffix}@example.com`,
        phone: '(202) 555-0188',
        loginName: `fuzz_${suffix}`,
        password: 'a long enough password',
        securityQuestion: { questionId: 'first_pet', answer: 'Rex' },
        ageAttestation: true,
        acceptTerms: true,
      },
    });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
    tokens.customer = registered.body.session.token as string;
    for (const role of STAFF_ROLES) tokens[role] = await loginStaff(ctx, await createStaffUser(ctx, role));
  });
  after(async () => ctx?.close());

  it('the OpenAPI document lists the routes under test', () => {
    expect(operations.length).to.be.greaterThan(60);
    expect(operations.filter((operation) => BODY_METHODS.has(operation.method)).length).to.be.greaterThan(30);
  });

  describe('a NUL or an unpaired surrogate in a login name is 400 input.invalid_character, not 500', () => {
    const cases: [string, string, (login: string) => Record<string, unknown>, string][] = [
      ['customer login', '/api/customers/login', (login) => ({ login, password: 'whatever it is' }), 'login'],
      ['staff login', '/api/staff/login', (username) => ({ username, password: 'whatever it is' }), 'username'],
      ['password reset: the question', '/api/customers/password-reset/question', (login) => ({ login }), 'login'],
      ['password reset: the answer', '/api/customers/password-reset/security-question', (login) => ({ login, answer: 'Rex', newPassword: 'a brand new password' }), 'login'],
    ];
    for (const [name, path, body, field] of cases) {
      for (const [what, login] of [['NUL', 'ada\u0000lovelace'], ['unpaired surrogate', 'ada\uD800lovelace']]) {
        it(`${name}: ${what}`, async () => {
          const response = await send('post', path, { body: JSON.stringify(body(login!)), headers: { 'content-type': 'application/json' } });
          expect(response.status, response.text).to.equal(400);
          expect(response.body?.error?.code).to.equal('input.invalid_character');
          expect(response.body?.error?.fields?.map((issue) => issue.path)).to.deep.equal([field]);
        });
      }
    }

    it('in a path segment, a query value and an object key too', async () => {
      const inPath = await send('get', '/api/staff/orders/1000%0000017', { token: tokens.csr! });
      expect([inPath.status, inPath.body?.error?.code]).to.deep.equal([400, 'input.invalid_character']);
      const inQuery = await send('get', '/api/catalog/products?q=coin%00');
      expect([inQuery.status, inQuery.body?.error?.code]).to.deep.equal([400, 'input.invalid_character']);
      const inKey = await send('post', '/api/customers/login', { body: '{"login":"ada","password":"x","\\u0000":1}', headers: { 'content-type': 'application/json' } });
      expect([inKey.status, inKey.body?.error?.code]).to.deep.equal([400, 'input.invalid_character']);
      expect(inKey.text).not.to.contain('\\u0000');
      const badPercent = await send('get', '/api/staff/orders/%ED%A0%80', { token: tokens.csr! });
      expect([badPercent.status, badPercent.body?.error?.code]).to.deep.equal([400, 'request.malformed_url']);
    });
  });

  describe('a body labelled gzip, deflate or br that is not compressed', () => {
    for (const encoding of ['gzip', 'deflate', 'br']) {
      it(`${encoding}: every route that takes a body answers 400 request.bad_content_encoding`, async () => {
        const answers: string[] = [];
        for (const operation of operations.filter((candidate) => BODY_METHODS.has(candidate.method))) {
          const token = tokenFor(operation);
          const response = await send(operation.method, fill(operation.template, ['abc12345']), {
            body: '{"reason":"not compressed"}',
            headers: { 'content-type': 'application/json', 'content-encoding': encoding },
            ...(token ? { token } : {}),
          });
          if (response.status !== 400 || response.body?.error?.code !== 'request.bad_content_encoding') answers.push(`${operation.method} ${operation.template}: ${response.status} ${response.text.slice(0, 120)}`);
        }
        expect(answers).to.deep.equal([]);
      });
    }

    it('a body that really is gzip-compressed is still read', async () => {
      const response = await send('post', '/api/addresses/standardize', {
        body: new Blob([new Uint8Array(gzipSync(JSON.stringify({ address: { line1: '1500 pennsylvania avenue northwest', city: 'washington', state: 'DC', postalCode: '20220' } })))]),
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      });
      expect(response.status, response.text).to.equal(200);
    });

    it('IVR webhooks answer the caller with TwiML (apology and a rep), never an error Twilio would read out', async () => {
      for (const path of ['/ivr/voice', '/ivr/menu/choice', '/ivr/status']) {
        for (const encoding of ['gzip', 'deflate', 'br']) {
          const response = await send('post', path, { body: 'CallSid=CA00&From=%2B12025550100', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': encoding } });
          expect(response.status, `${path} ${encoding}: ${response.text}`).to.equal(200);
          expect(response.contentType).to.match(/xml/);
          expect(response.text).to.match(/<Response/);
        }
      }
      const flow = await send('post', '/ivr/voice', { body: 'CallSid=CA00', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' } });
      expect(flow.text).to.match(/<Enqueue/);
    });

    it('a signed IVR request with a NUL in a parameter gets the apology and the queue', async () => {
      const params = { CallSid: `CA${randomBytes(16).toString('hex')}`, From: '+12025550100\u0000', To: '+12025550199', CallStatus: 'ringing' };
      const signature = signTwilioRequest(ctx.runtime.phone.authToken, `${PUBLIC_BASE}/ivr/voice`, params);
      const response = await send('post', '/ivr/voice', { body: new URLSearchParams(params).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } });
      expect(response.status, response.text).to.equal(200);
      expect(response.text).to.match(/<Enqueue/);
    });
  });

  it('random and hostile requests to every listed route: never a 5xx', async () => {
    const hostileText = fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
      { weight: 3, arbitrary: fc.constantFrom('', '\u0000', 'a\u0000b', '\uD800', 'x\uDC00y', '\uDBFF\uDFFF', '\u202Eevil', '4242 4242 4242 4242', '{"$gt":""}', '$where', '../../etc/passwd', '<script>alert(1)</script>', 'null', '1e999', 'ß'.repeat(50)) },
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 70_000 }).map((length) => 'x'.repeat(length)) },
    );
    const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...fieldNames) }, { weight: 1, arbitrary: hostileText.map((text) => text.slice(0, 40)) });
    const { value } = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        hostileText,
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(key, tie('value'), { maxKeys: 6 }),
      ),
    }));
    const body = fc.oneof(
      { weight: 5, arbitrary: fc.dictionary(key, value, { maxKeys: 8 }).map((object) => JSON.stringify(object)) },
      { weight: 1, arbitrary: value.map((anything) => JSON.stringify(anything) ?? 'null') },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    );
    const segment = fc.oneof(hostileText.map((text) => encode(text.slice(0, 200))), fc.constantFrom('%00', '%ED%A0%80', '%', '%zz', '%C0%AE', '..', 'abc12345', '100000017'));
    const request = fc.record({
      operation: fc.constantFrom(...operations),
      segments: fc.array(segment, { minLength: 1, maxLength: 3 }),
      query: fc.dictionary(key, hostileText.map((text) => text.slice(0, 300)), { maxKeys: 3 }),
      body,
      contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'application/json; charset=bogus', 'text/plain', 'application/x-www-form-urlencoded'),
      contentEncoding: fc.constantFrom(undefined, undefined, undefined, 'gzip', 'deflate', 'br', 'identity', 'x-unknown'),
      authenticated: fc.boolean(),
    });

    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const query = Object.entries(r.query).map(([name, text]) => `${encode(name)}=${encode(text)}`).join('&');
        const path = `${fill(r.operation.template, r.segments)}${query ? `?${query}` : ''}`;
        const token = r.authenticated ? tokenFor(r.operation) : undefined;
        const withBody = BODY_METHODS.has(r.operation.method) && r.body !== undefined;
        const headers: Record<string, string> = { 'content-type': r.contentType, ...(r.contentEncoding ? { 'content-encoding': r.contentEncoding } : {}) };
        const response = await send(r.operation.method, path, { headers, ...(withBody ? { body: r.body } : {}), ...(token ? { token } : {}) });
        if (response.status >= 500) failures.push(`${r.operation.method.toUpperCase()} ${path.slice(0, 200)} -> ${response.status} ${response.text.slice(0, 200)}`);
        return response.status < 500;
      }),
      // Bounded: a few hundred requests keep this well under a minute; a failure prints its seed to replay.
      { numRuns: 400, endOnFailure: true },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${failures.join('\n')}`);
    });
  });
});
