import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { callRecordModel, pendingRecordingModel } from '../../api/ivr/model.ts';
import { parseTwiml, type DialVerb } from '../../ivr/simulator/twiml.ts';
import { createSimulatedCall } from '../../ivr/simulator/call.ts';
import { signTwilioRequest } from '../../ivr/signature.ts';
import { simulatorAuthToken } from '../../ivr/simulator/network.ts';
import { api } from '../support/http.ts';
import { capturedLogLines } from '../support/infra.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';
import { createIvrContext, expectHealthy, placeCall, PUBLIC_BASE, randomCaller, said, startTwilioStandIn, type IvrTestContext } from './ivr-support.ts';

/**
 * The webhook edge: signatures, the apology on any failure (errors, a hung dependency, the
 * database down, the fallback URL), Twilio's REST API through the official client, and the
 * recording status callback.
 */

const newCallSid = () => `CA${randomBytes(16).toString('hex')}`;

async function post(ctx: IvrTestContext, path: string, params: Record<string, string>, signature?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (signature !== undefined) headers['x-twilio-signature'] = signature;
  const response = await fetch(`${ctx.baseUrl}${path}`, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
}

function signed(ctx: IvrTestContext, path: string, params: Record<string, string>) {
  return post(ctx, path, params, signTwilioRequest(ctx.runtime.phone.authToken, `${PUBLIC_BASE}${path}`, params));
}

describe('IVR webhooks: signatures, errors and the Twilio REST API', function () {
  this.timeout(120_000);

  describe('in simulator mode', () => {
    let ctx: IvrTestContext;
    before(async () => {
      ctx = await createIvrContext();
    });
    after(async () => ctx?.close());

    it('uses a development auth token derived from the app secret', () => {
      expect(ctx.runtime.phone.mode).to.equal('simulator');
      expect(ctx.runtime.phone.authToken).to.equal(simulatorAuthToken(ctx.services.core.secrets.appSecret));
      expect(ctx.runtime.phone.authToken).to.match(/^[0-9a-f]{64}$/);
    });

    it('refuses unsigned, wrongly signed and internally signed requests with 403, and logs them', async () => {
      const params = { CallSid: newCallSid(), From: '+12025550111', To: '+12025550199', AccountSid: `AC${'5'.repeat(32)}` };
      const before = capturedLogLines.length;
      const unsigned = await post(ctx, '/ivr/voice', params);
      expect(unsigned.status).to.equal(403);
      const wrong = await post(ctx, '/ivr/voice', params, signTwilioRequest('not-the-token-at-all', `${PUBLIC_BASE}/ivr/voice`, params));
      expect(wrong.status).to.equal(403);
      // Behind the proxy the app sees 127.0.0.1; a signature over that URL is not Twilio's.
      const internal = await post(ctx, '/ivr/voice', params, signTwilioRequest(ctx.runtime.phone.authToken, `${ctx.baseUrl}/ivr/voice`, params));
      expect(internal.status).to.equal(403);
      const tampered = await post(ctx, '/ivr/voice', { ...params, From: '+12025550112' }, signTwilioRequest(ctx.runtime.phone.authToken, `${PUBLIC_BASE}/ivr/voice`, params));
      expect(tampered.status).to.equal(403);
      const logged = capturedLogLines.slice(before).filter((line) => line.includes('bad Twilio signature'));
      expect(logged).to.have.length(4);
      expect(logged[0]).to.contain('"signature":"missing"');
      expect(logged[1]).to.contain('"signature":"invalid"');

      const ok = await signed(ctx, '/ivr/voice', params);
      expect(ok.status).to.equal(200);
      expect(ok.contentType).to.match(/^text\/xml/);
      expect(parseTwiml(ok.body).map((v) => v.verb)).to.deep.equal(['gather']);
      expect(await callRecordModel(ctx.services.core.mongo).countDocuments({ _id: params.CallSid })).to.equal(1);
    });

    it('answers a broken request with the apology and a rep, never an error status', async () => {
      // A signed request without a CallSid: the step cannot run, the caller still gets TwiML.
      const response = await signed(ctx, '/ivr/menu/choice', { Digits: '1', From: '+12025550111' });
      expect(response.status).to.equal(200);
      const verbs = parseTwiml(response.body);
      expect(verbs.filter((v) => v.verb === 'say').map((v) => (v as { text: string }).text).join(' ')).to.contain("We're sorry").and.to.contain('Lo sentimos');
      expect(verbs.at(-1)).to.deep.include({ verb: 'enqueue', queue: 'mintdesk-customer-service' });
    });

    it('the fallback URL apologises and queues the caller for a rep, in their language', async () => {
      const { call } = await placeCall(ctx);
      await call.press('2');
      const response = await signed(ctx, '/ivr/fallback', { CallSid: call.callSid, From: '+12025550111', ErrorCode: '11200', ErrorUrl: `${PUBLIC_BASE}/ivr/notice` });
      expect(response.status).to.equal(200);
      const verbs = parseTwiml(response.body);
      const says = verbs.filter((v) => v.verb === 'say').map((v) => (v as { text: string }).text).join(' ');
      expect(says).to.contain('Lo sentimos').and.not.to.contain("We're sorry");
      expect(verbs.at(-1)?.verb).to.equal('enqueue');
      await call.hangup();
      expectHealthy(call);
    });

    it('stores a signed recording status callback once as a pending recording; an unsigned one is refused', async () => {
      const { call } = await placeCall(ctx);
      await call.press('1');
      const recordingSid = `RE${randomBytes(16).toString('hex')}`;
      const params = {
        AccountSid: call.accountSid,
        CallSid: call.callSid,
        RecordingSid: recordingSid,
        RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${call.accountSid}/Recordings/${recordingSid}`,
        RecordingStatus: 'completed',
        RecordingDuration: '73',
        RecordingChannels: '2',
        RecordingSource: 'DialVerb',
        RecordingStartTime: new Date('2026-12-01T19:05:00Z').toUTCString(),
      };
      const recordings = pendingRecordingModel(ctx.services.core.mongo);
      expect((await post(ctx, '/ivr/recording/status', params)).status).to.equal(403);
      expect(await recordings.countDocuments({ _id: recordingSid })).to.equal(0);
      expect((await signed(ctx, '/ivr/recording/status', params)).status).to.equal(200);
      expect((await signed(ctx, '/ivr/recording/status', params)).status).to.equal(200);
      const stored = await recordings.find({ _id: recordingSid }).lean();
      expect(stored).to.have.length(1);
      expect(stored[0]).to.deep.include({ callSid: call.callSid, durationSeconds: 73, channels: 2, source: 'DialVerb', ingestState: 'pending', recordingDeclined: false });
      expect(stored[0]!.startedAt?.toISOString()).to.equal('2026-12-01T19:05:00.000Z');
      expect((await ctx.services.ivr.pendingRecordings()).map((r) => r._id)).to.include(recordingSid);
      const absent = { ...params, RecordingSid: `RE${randomBytes(16).toString('hex')}`, RecordingStatus: 'absent' };
      expect((await signed(ctx, '/ivr/recording/status', absent)).status).to.equal(200);
      expect(await recordings.countDocuments({ _id: absent.RecordingSid })).to.equal(0);
      await call.hangup();
    });

    it('serves the simulator page and its API only in simulator mode', async () => {
      const page = await fetch(`${ctx.baseUrl}/simulator/`);
      expect(page.status).to.equal(200);
      expect(await page.text()).to.contain('Mintdesk phone simulator');
    });
  });

  describe('when a dependency fails', () => {
    let ctx: IvrTestContext;
    before(async () => {
      ctx = await createIvrContext({ IVR_REQUEST_BUDGET_MS: '1000' });
    });
    after(async () => ctx?.close());

    it('a step that runs over the time budget still answers: apology, then the queue with hold audio', async () => {
      const ivr = ctx.services.ivr;
      const original = ivr.activeConfig;
      // A dependency that never answers (a stuck connection): only the budget can save the caller.
      ivr.activeConfig = () => new Promise(() => undefined);
      const before = capturedLogLines.length;
      try {
        const { call } = await placeCall(ctx);
        expect(call.queue).to.equal('mintdesk-customer-service');
        expect(said(call)).to.contain("We're sorry, something went wrong on our end.").and.to.contain('Lo sentimos');
        expect(call.transcript.some((e) => e.type === 'play')).to.equal(true);
        await call.hangup();
        expectHealthy(call);
      } finally {
        ivr.activeConfig = original;
      }
      expect(capturedLogLines.slice(before).some((line) => line.includes('ran over its time budget'))).to.equal(true);
    });

    it('with the database down, callers hear the apology and wait for a rep instead of an application error', async () => {
      const { mongo } = ctx.services.core;
      // Nothing of this suite's database is needed any more: drop it first, then take the connection away.
      await mongo.dropDatabase();
      await mongo.close();
      const { call } = await placeCall(ctx);
      expect(said(call)).to.contain("We're sorry").and.to.contain('Please stay on the line');
      expect(call.queue).to.equal('mintdesk-customer-service');
      await call.hangup();
      expect(call.state).to.equal('completed');
      expectHealthy(call);
    });
  });

  describe('with a Twilio account (REST stand-in on loopback, public base behind a path prefix)', () => {
    const accountSid = `AC${randomBytes(16).toString('hex')}`;
    const authToken = randomBytes(16).toString('hex');
    const publicBase = 'https://shop.mintdesk.test/phone';
    let standIn: Awaited<ReturnType<typeof startTwilioStandIn>>;
    let ctx: IvrTestContext;
    let csrToken: string;
    let csrId: string;
    before(async () => {
      standIn = await startTwilioStandIn();
      ctx = await createIvrContext({ PUBLIC_BASE_URL: publicBase, TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, TWILIO_PHONE_NUMBER: '+12025550199', TWILIO_API_BASE_URL: standIn.url });
      const csr = await createStaffUser(ctx, 'csr');
      csrId = csr.id;
      csrToken = await loginStaff(ctx, csr);
    });
    after(async () => {
      await ctx?.close();
      await standIn?.close();
    });

    const twilioCall = (onDial?: (dial: DialVerb) => { status: 'completed' | 'no-answer'; durationSeconds: number }) =>
      createSimulatedCall({
        baseUrl: publicBase,
        connectTo: ctx.baseUrl,
        voicePath: '/ivr/voice',
        authToken,
        accountSid,
        from: randomCaller(),
        to: '+12025550199',
        statusCallbackUrl: `${publicBase}/ivr/status`,
        ...(onDial ? { onDial } : {}),
      });

    it('has no simulator: the page is not served', async () => {
      expect(ctx.runtime.phone.mode).to.equal('twilio');
      expect(ctx.runtime.phoneSimulator).to.equal(undefined);
      expect((await fetch(`${ctx.baseUrl}/simulator/`)).status).to.equal(404);
    });

    it('accepting a waiting call dequeues it through the Queue Members API; Twilio then runs the recorded Dial', async () => {
      let dialed: DialVerb | undefined;
      const call = twilioCall((dial) => {
        dialed = dial;
        return { status: 'completed', durationSeconds: 95 };
      });
      await call.start();
      await call.press('1');
      await call.timeout();
      await call.press('0');
      expect(call.queue).to.equal('mintdesk-customer-service');
      const queueSid = (call.transcript.find((e) => e.type === 'enqueued') as { queueSid: string }).queueSid;

      const accepted = await api(ctx.baseUrl, 'POST', `/api/staff/ivr/calls/${call.callSid}/accept`, { token: csrToken, body: {} });
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202);
      expect(accepted.body.target).to.deep.equal({ type: 'client', value: `staff-${csrId}` });
      expect(standIn.requests).to.have.length(1);
      const request = standIn.requests[0]!;
      expect(request.method).to.equal('POST');
      expect(request.path).to.equal(`/2010-04-01/Accounts/${accountSid}/Queues/${queueSid}/Members/${call.callSid}.json`);
      expect(request.authorization).to.equal(`Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`);
      expect(request.contentType).to.match(/^application\/x-www-form-urlencoded/);
      expect(request.form).to.deep.equal({ Url: `${publicBase}/ivr/queue/connect`, Method: 'POST' });

      // Twilio carries out the dequeue: the call runs the TwiML at the URL it was given.
      await call.redirect(request.form.Url!);
      expect(call.state).to.equal('completed');
      expectHealthy(call);
      expect(dialed?.record).to.equal('record-from-answer-dual');
      expect(dialed?.recordingStatusCallback).to.equal(`${publicBase}/ivr/recording/status`);
      expect(dialed?.targets[0]).to.deep.include({ type: 'client', identity: `staff-${csrId}`, url: `${publicBase}/ivr/queue/whisper?call=${call.callSid}` });
      const recordings = await pendingRecordingModel(ctx.services.core.mongo).find({ callSid: call.callSid }).lean();
      expect(recordings).to.have.length(1);
      expect(recordings[0]).to.deep.include({ durationSeconds: 95, staffUserId: csrId, ingestState: 'pending' });
      const stored = await callRecordModel(ctx.services.core.mongo).findById(call.callSid).lean();
      expect(stored?.outcome).to.equal('connected');
    });

    it('rings a desk phone when the rep gives one, and reports a refused dequeue as 503 without keeping the claim', async () => {
      const call = twilioCall();
      await call.start();
      await call.press('1');
      await call.timeout();
      await call.press('0');
      const before = standIn.requests.length;
      standIn.failNext();
      const refused = await api(ctx.baseUrl, 'POST', `/api/staff/ivr/calls/${call.callSid}/accept`, { token: csrToken, body: { phone: '+12025550142' } });
      expect(refused.status).to.equal(503);
      expect(refused.body.error.code).to.equal('ivr.connect_failed');
      const retried = await api(ctx.baseUrl, 'POST', `/api/staff/ivr/calls/${call.callSid}/accept`, { token: csrToken, body: { phone: '+12025550142' } });
      expect(retried.status).to.equal(202);
      expect(retried.body.target).to.deep.equal({ type: 'number', value: '+12025550142' });
      expect(standIn.requests.length).to.equal(before + 2);
      await call.hangup();
      expectHealthy(call);
    });

    it('the whisper tells the rep who is calling and whether the call is recorded', async () => {
      const call = twilioCall();
      await call.start();
      await call.press('1');
      await call.press('9');
      await call.press('0');
      const url = `${publicBase}/ivr/queue/whisper?call=${call.callSid}`;
      const params = { CallSid: newCallSid(), AccountSid: accountSid, From: '+12025550199', To: 'client:staff-x' };
      const response = await fetch(`${ctx.baseUrl}/ivr/queue/whisper?call=${call.callSid}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(authToken, url, params) },
        body: new URLSearchParams(params).toString(),
      });
      expect(response.status).to.equal(200);
      const text = parseTwiml(await response.text()).flatMap((v) => (v.verb === 'say' ? [v.text] : [])).join(' ');
      expect(text).to.contain(`${ctx.services.core.config.storeName} caller.`).and.to.contain('Caller not matched to a customer.').and.to.contain('The caller declined recording. This call is not recorded.');
      await call.hangup();
      expectHealthy(call);
    });
  });
});
