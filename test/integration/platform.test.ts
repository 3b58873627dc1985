import { expect } from 'chai';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';

describe('platform: embedded services and health', function () {
  this.timeout(180_000);
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(async () => ctx?.close());

  it('answers /healthz and reports Mongo, Redis and S3 ready on /readyz', async () => {
    expect((await api(ctx.baseUrl, 'GET', '/healthz')).status).to.equal(200);
    // A new database is not ready at once: the models' index builds are under way, and FerretDB's
    // ping waits behind them (past the probe's 2 s on a loaded machine). Ready within a minute.
    let ready = await api(ctx.baseUrl, 'GET', '/readyz');
    for (let attempt = 0; attempt < 60 && ready.status !== 200; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      ready = await api(ctx.baseUrl, 'GET', '/readyz');
    }
    expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
    expect(ready.body.checks).to.deep.equal({ mongo: 'ok', redis: 'ok', s3: 'ok' });
  });

  it('stores and reads back an object in the embedded S3 with a byte range', async () => {
    const { objectStore } = ctx.services.core;
    await objectStore.put('probe/hello.txt', 'hello, mint', { contentType: 'text/plain' });
    const part = await objectStore.get('probe/hello.txt', { start: 7, end: 10 });
    const chunks: Buffer[] = [];
    for await (const chunk of part.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).to.equal('mint');
    expect(GetObjectCommand).to.be.a('function');
  });

  it('delivers mail to the embedded SMTP server', async () => {
    const { mailer, mailbox } = ctx.services.core;
    await mailer.sendMail({ from: 'a@mintdesk.local', to: 'b@example.com', subject: 'probe', text: 'hi' });
    const mail = await mailbox!.waitFor((m) => m.subject === 'probe');
    expect(mail.envelopeTo).to.deep.equal(['b@example.com']);
  });

  it('answers unknown routes with the standard error body', async () => {
    const response = await api(ctx.baseUrl, 'GET', '/api/nope');
    expect(response.status).to.equal(404);
    expect(response.body).to.have.nested.property('error.code', 'route.not_found');
    expect(response.headers.get('x-request-id')).to.be.a('string');
  });

  it('rejects malformed JSON with a 400 and a stable code', async () => {
    const response = await fetch(`${ctx.baseUrl}/api/nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' });
    expect(response.status).to.equal(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('request.malformed_json');
  });
});
