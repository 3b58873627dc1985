import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppError, ConflictError, ValidationError } from '../../platform/errors.ts';
import { createSimulatedCall, type CallEvent, type SimulatedCall, type SimulatedCallOptions } from '../../ivr/simulator/call.ts';
import { signTwilioJsonRequest, signTwilioRequest, verifyTwilioRequest } from '../../ivr/signature.ts';

const AUTH_TOKEN = 'sim-auth-token-0123456789abcdef';
/** What Twilio would be configured with; the app actually listens on 127.0.0.1 behind this "proxy". */
const PUBLIC_BASE = 'https://ivr.mintdesk.test';
const CALLER = '+15551230001';
const STORE = '+15559870000';

interface Hit {
  method: string;
  path: string;
  host: string | undefined;
  params: Record<string, string>;
}

/** Twilio's documented algorithm, written out independently of the twilio package. */
function referenceSignature(token: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', token).update(Buffer.from(data, 'utf-8')).digest('base64');
}

describe('IVR simulator: signed webhooks and simulated calls', () => {
  let server: Server;
  let internalBase: string;
  let hits: Hit[];
  let rejected: string[];

  const xml = (res: Response, body: string) => res.type('text/xml').send(`<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`);

  before(async () => {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    // The IVR's guard: the URL is rebuilt from the public base, never from the (internal) Host header.
    app.use((req: Request, res: Response, next: NextFunction) => {
      const params = req.method === 'POST' ? ((req.body ?? {}) as Record<string, string>) : {};
      const ok = verifyTwilioRequest({
        authToken: AUTH_TOKEN,
        publicBaseUrl: PUBLIC_BASE,
        originalUrl: req.originalUrl,
        params,
        signature: req.header('x-twilio-signature'),
      });
      if (!ok) {
        rejected.push(req.originalUrl);
        res.status(403).type('text/plain').send('Invalid Twilio signature.');
        return;
      }
      hits.push({ method: req.method, path: req.path, host: req.header('host'), params: { ...(req.method === 'POST' ? params : (req.query as Record<string, string>)) } });
      next();
    });

    app.post('/ivr/voice', (_req, res) =>
      xml(
        res,
        `<Say>Welcome to Mintdesk Coins.</Say>
         <Gather numDigits="1" action="menu"><Say>Press 1 for order status, 2 for a numismatist.</Say></Gather>
         <Say>We did not receive a choice.</Say>
         <Redirect>voice</Redirect>`,
      ),
    );
    app.post('/ivr/menu', (req, res) => {
      switch (req.body.Digits) {
        case '1':
          return xml(res, '<Say>Your order has shipped.</Say><Hangup/>');
        case '2':
          return xml(res, '<Redirect>/ivr/agent</Redirect>');
        case '3':
          return xml(res, '<Dial action="/ivr/dial-done" record="record-from-answer" recordingStatusCallback="/ivr/recording-status"><Number>+15550001111</Number></Dial>');
        case '4':
          return xml(res, '<Gather input="speech" action="/ivr/speech" hints="gold, silver"><Say>Say gold or silver.</Say></Gather>');
        case '5':
          return xml(res, '<Say>Leave a message after the beep.</Say><Record maxLength="30" finishOnKey="#" action="/ivr/recorded" recordingStatusCallback="/ivr/recording-status"/>');
        case '6':
          return xml(res, '<Pay chargeAmount="10.00"/><Say>Payments by phone are not available.</Say><Hangup/>');
        case '9':
          return xml(res, '<Redirect method="GET">/ivr/hours?src=menu</Redirect>');
        default:
          return xml(res, '<Say>Sorry, that is not an option.</Say><Redirect>/ivr/voice</Redirect>');
      }
    });
    app.get('/ivr/hours', (_req, res) => xml(res, '<Say>We are open nine to five.</Say><Hangup/>'));
    app.post('/ivr/speech', (req, res) => xml(res, `<Say>You said ${String(req.body.SpeechResult)}.</Say>`));
    app.post('/ivr/agent', (_req, res) =>
      xml(res, '<Say>Connecting you to a numismatist.</Say><Enqueue waitUrl="wait" action="after-queue">numismatists</Enqueue><Say>Unreachable with an action.</Say>'),
    );
    app.post('/ivr/wait', (req, res) =>
      xml(res, `<Say>You are caller number ${String(req.body.QueuePosition)}.</Say><Play loop="0">https://ivr.mintdesk.test/hold.mp3</Play>`),
    );
    app.post('/ivr/after-queue', (req, res) => {
      if (req.body.QueueResult === 'leave') return xml(res, '<Say>Please leave a message after the tone.</Say><Hangup/>');
      if (req.body.QueueResult === 'bridged') return xml(res, '<Say>Thanks for calling Mintdesk.</Say><Hangup/>');
      return res.status(204).end(); // after a hangup nobody listens to the answer
    });
    app.post('/ivr/recorded', (req, res) => xml(res, `<Say>Got ${String(req.body.RecordingDuration)} seconds, ended by ${String(req.body.Digits ?? 'silence')}.</Say><Hangup/>`));
    app.post('/ivr/invalid', (_req, res) => xml(res, '<Gather numDigits="none"/>'));
    app.post('/ivr/queue-announce', (_req, res) => xml(res, '<Say>Connecting you now; this call may be recorded.</Say>'));
    app.post('/ivr/dial-done', (req, res) => xml(res, `<Say>Dial ended: ${String(req.body.DialCallStatus)}.</Say><Hangup/>`));
    app.post('/ivr/recording-status', (_req, res) => res.status(204).end());
    app.post('/ivr/status', (_req, res) => res.status(204).end());
    app.post('/ivr/loop', (_req, res) => xml(res, '<Redirect>loop</Redirect>'));
    app.post('/ivr/broken', (_req, res) => res.status(500).type('text/plain').send('boom'));
    app.post('/ivr/json', (_req, res) => res.json({ say: 'hello' }));
    app.post('/ivr/garbage', (_req, res) => res.type('text/xml').send('<Response><Say>unclosed</Response>'));
    app.post('/ivr/slow', (_req, res) => setTimeout(() => xml(res, '<Gather><Say>Slow menu.</Say></Gather>'), 150));
    app.post('/ivr/reject', (_req, res) => xml(res, '<Reject reason="busy"/><Say>never</Say>'));

    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    internalBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    hits = [];
    rejected = [];
  });

  function call(overrides: Partial<SimulatedCallOptions> = {}): SimulatedCall {
    return createSimulatedCall({
      baseUrl: PUBLIC_BASE,
      connectTo: internalBase,
      voicePath: '/ivr/voice',
      authToken: AUTH_TOKEN,
      from: CALLER,
      to: STORE,
      statusCallbackUrl: '/ivr/status',
      ...overrides,
    });
  }

  function expectHealthy(c: SimulatedCall): void {
    expect(c.applicationError, JSON.stringify(c.applicationError)).to.equal(undefined);
    expect(c.warnings).to.deep.equal([]);
    expect(rejected).to.deep.equal([]);
  }

  const httpEvents = (c: SimulatedCall) => c.transcript.filter((e): e is Extract<CallEvent, { type: 'http' }> => e.type === 'http');

  describe('signing', () => {
    it('signs exactly as Twilio documents, and verifies its own signatures', () => {
      const url = `${PUBLIC_BASE}/ivr/menu?lang=en`;
      const params = { CallSid: 'CA0123', Digits: '1', From: CALLER, To: STORE, AccountSid: 'AC1' };
      const signature = signTwilioRequest(AUTH_TOKEN, url, params);
      expect(signature).to.equal(referenceSignature(AUTH_TOKEN, url, params));
      expect(verifyTwilioRequest({ authToken: AUTH_TOKEN, publicBaseUrl: PUBLIC_BASE, originalUrl: '/ivr/menu?lang=en', params, signature })).to.equal(true);
    });

    it('rejects tampering, a missing or repeated header, and a different token', () => {
      const params = { CallSid: 'CA0123', Digits: '1' };
      const signature = signTwilioRequest(AUTH_TOKEN, `${PUBLIC_BASE}/ivr/menu`, params);
      const base = { authToken: AUTH_TOKEN, publicBaseUrl: PUBLIC_BASE, originalUrl: '/ivr/menu', params, signature };
      expect(verifyTwilioRequest(base)).to.equal(true);
      expect(verifyTwilioRequest({ ...base, params: { ...params, Digits: '2' } })).to.equal(false);
      expect(verifyTwilioRequest({ ...base, originalUrl: '/ivr/menu?x=1' })).to.equal(false);
      expect(verifyTwilioRequest({ ...base, signature: undefined })).to.equal(false);
      expect(verifyTwilioRequest({ ...base, signature: [signature, signature] })).to.equal(false);
      expect(verifyTwilioRequest({ ...base, authToken: 'another-token' })).to.equal(false);
      // Behind a proxy the Host is internal: a signature over the internal URL must not pass.
      const internal = signTwilioRequest(AUTH_TOKEN, `${internalBase}/ivr/menu`, params);
      expect(verifyTwilioRequest({ ...base, signature: internal })).to.equal(false);
      // An absolute-form request target cannot choose the host that is verified.
      expect(verifyTwilioRequest({ ...base, originalUrl: `${PUBLIC_BASE}/ivr/menu` })).to.equal(false);
    });

    it('accepts the URL with or without the default port, as Twilio signs either', () => {
      const params = { CallSid: 'CA0123' };
      const withPort = signTwilioRequest(AUTH_TOKEN, 'https://ivr.mintdesk.test:443/ivr/voice', params);
      const without = signTwilioRequest(AUTH_TOKEN, 'https://ivr.mintdesk.test/ivr/voice', params);
      for (const publicBaseUrl of ['https://ivr.mintdesk.test', 'https://ivr.mintdesk.test:443/']) {
        for (const signature of [withPort, without]) {
          expect(verifyTwilioRequest({ authToken: AUTH_TOKEN, publicBaseUrl, originalUrl: '/ivr/voice', params, signature })).to.equal(true);
        }
      }
      // A non-default port is part of the URL and must match.
      const other = signTwilioRequest(AUTH_TOKEN, 'https://ivr.mintdesk.test:8443/ivr/voice', params);
      expect(verifyTwilioRequest({ authToken: AUTH_TOKEN, publicBaseUrl: PUBLIC_BASE, originalUrl: '/ivr/voice', params, signature: other })).to.equal(false);
    });

    it('handles a public base with a path prefix, whether or not the proxy strips it', () => {
      const params = { CallSid: 'CA0123' };
      const signature = signTwilioRequest(AUTH_TOKEN, 'https://shop.mintdesk.test/phone/ivr/voice', params);
      const base = { authToken: AUTH_TOKEN, publicBaseUrl: 'https://shop.mintdesk.test/phone/', params, signature };
      expect(verifyTwilioRequest({ ...base, originalUrl: '/ivr/voice' })).to.equal(true);
      expect(verifyTwilioRequest({ ...base, originalUrl: '/phone/ivr/voice' })).to.equal(true);
      expect(verifyTwilioRequest({ ...base, originalUrl: '/other/ivr/voice' })).to.equal(false);
    });

    it('verifies the JSON-body variant through bodySHA256', () => {
      const body = JSON.stringify({ CallSid: 'CA0123', event: 'completed' });
      const { url, signature } = signTwilioJsonRequest(AUTH_TOKEN, `${PUBLIC_BASE}/ivr/events`, body);
      const originalUrl = url.slice(PUBLIC_BASE.length);
      expect(originalUrl).to.match(/^\/ivr\/events\?bodySHA256=[0-9a-f]{64}$/);
      const input = { authToken: AUTH_TOKEN, publicBaseUrl: PUBLIC_BASE, originalUrl, signature, params: JSON.parse(body) as Record<string, unknown> };
      expect(verifyTwilioRequest({ ...input, rawBody: body })).to.equal(true);
      expect(verifyTwilioRequest({ ...input, rawBody: Buffer.from(body) })).to.equal(true);
      expect(verifyTwilioRequest({ ...input, rawBody: body.replace('completed', 'failed') })).to.equal(false);
      expect(verifyTwilioRequest(input)).to.equal(false);
    });

    it('refuses to sign or verify without an auth token or with a bad public base URL', () => {
      expect(() => signTwilioRequest('', PUBLIC_BASE, {})).to.throw(AppError).with.property('code', 'twilio.auth_token_missing');
      expect(() => verifyTwilioRequest({ authToken: '', publicBaseUrl: PUBLIC_BASE, originalUrl: '/', signature: 'x' })).to.throw(AppError).with.property('code', 'twilio.auth_token_missing');
      expect(() => verifyTwilioRequest({ authToken: AUTH_TOKEN, publicBaseUrl: 'ivr.mintdesk.test', originalUrl: '/', signature: 'x' })).to.throw(AppError).with.property('code', 'twilio.public_base_url_invalid');
    });
  });

  describe('calls', () => {
    it('answers with the greeting and waits at the menu, posting Twilio\'s call parameters', async () => {
      const c = call();
      await c.start();
      expect(c.state).to.equal('awaiting_input');
      expect(c.lastPrompt()).to.equal('Welcome to Mintdesk Coins. Press 1 for order status, 2 for a numismatist.');
      expect(c.callSid).to.match(/^CA[0-9a-f]{32}$/);
      expect(c.accountSid).to.match(/^AC[0-9a-f]{32}$/);
      expect(c.pendingGather).to.deep.include({ numDigits: 1, action: 'menu' });

      expect(hits).to.have.length(1);
      const [first] = hits;
      expect(first?.path).to.equal('/ivr/voice');
      expect(first?.host).to.equal(new URL(internalBase).host); // signed for the public URL, delivered to the internal host
      expect(first?.params).to.deep.equal({
        AccountSid: c.accountSid,
        ApiVersion: '2010-04-01',
        CallSid: c.callSid,
        CallStatus: 'ringing',
        Called: STORE,
        Caller: CALLER,
        Direction: 'inbound',
        From: CALLER,
        To: STORE,
      });
      expect(httpEvents(c).map((e) => [e.purpose, e.method, e.url, e.status])).to.deep.equal([['voice', 'POST', `${PUBLIC_BASE}/ivr/voice`, 200]]);
      expectHealthy(c);
    });

    it('resolves a relative Gather action against the document URL and follows the order-status path', async () => {
      const c = call();
      await c.start();
      const gather = c.transcript.find((e) => e.type === 'gather');
      expect(gather).to.deep.include({ action: `${PUBLIC_BASE}/ivr/menu`, method: 'POST', input: ['dtmf'], numDigits: 1 });

      await c.press('1');
      expect(c.state).to.equal('completed');
      expect(c.endReason).to.equal('hangup_verb');
      expect(c.lastPrompt()).to.equal('Your order has shipped.');
      const menu = hits.find((h) => h.path === '/ivr/menu');
      expect(menu?.params).to.include({ Digits: '1', FinishedOnKey: '', CallStatus: 'in-progress', CallSid: c.callSid });
      // The number's status callback closes the call.
      expect(hits.at(-1)).to.deep.include({ path: '/ivr/status' });
      expect(hits.at(-1)?.params).to.include({ CallStatus: 'completed', CallSid: c.callSid });
      expect(c.transcript.filter((e) => e.type === 'hangup')).to.have.length(1);
      expectHealthy(c);
    });

    it('stops a Gather at numDigits or finishOnKey and ignores the rest', async () => {
      const c = call();
      await c.start();
      await c.press('17#');
      expect(hits.find((h) => h.path === '/ivr/menu')?.params).to.include({ Digits: '1' });
      expect(c.lastPrompt()).to.equal('Your order has shipped.');
    });

    it('on silence continues after the Gather, then the Redirect returns to the menu', async () => {
      const c = call();
      await c.start();
      await c.timeout();
      expect(c.state).to.equal('awaiting_input');
      expect(c.lastPrompt()).to.equal('We did not receive a choice. Welcome to Mintdesk Coins. Press 1 for order status, 2 for a numismatist.');
      expect(c.transcript.filter((e) => e.type === 'redirect').map((e) => (e as { url: string }).url)).to.deep.equal([`${PUBLIC_BASE}/ivr/voice`]);
      expect(hits.map((h) => h.path)).to.deep.equal(['/ivr/voice', '/ivr/voice']);
      expectHealthy(c);
    });

    it('answers an invalid choice and returns to the menu', async () => {
      const c = call();
      await c.start();
      await c.press('7');
      expect(c.state).to.equal('awaiting_input');
      expect(c.lastPrompt()).to.match(/^Sorry, that is not an option\. Welcome to Mintdesk Coins\./);
      expectHealthy(c);
    });

    it('follows a GET Redirect with the call parameters in the signed query', async () => {
      const c = call();
      await c.start();
      await c.press('9');
      expect(c.lastPrompt()).to.equal('We are open nine to five.');
      const hours = hits.find((h) => h.path === '/ivr/hours');
      expect(hours).to.deep.include({ method: 'GET' });
      expect(hours?.params).to.include({ src: 'menu', CallSid: c.callSid, CallStatus: 'in-progress' });
      expectHealthy(c);
    });

    it('passes speech to a speech Gather and ignores key presses there', async () => {
      const c = call();
      await c.start();
      await c.press('4');
      expect(c.pendingGather).to.deep.include({ input: ['speech'], hints: ['gold', 'silver'] });
      await c.say('gold', { confidence: 0.8 });
      expect(c.lastPrompt()).to.equal('You said gold.');
      expect(hits.find((h) => h.path === '/ivr/speech')?.params).to.include({ SpeechResult: 'gold', Confidence: '0.8' });
      expect(c.state).to.equal('completed');
      expect(c.endReason).to.equal('end_of_document');

      const keys = call();
      await keys.start();
      await keys.press('4');
      await keys.press('1'); // speech-only: the keys are ignored and the Gather times out to the end of the document
      expect(keys.transcript.some((e) => e.type === 'input_ignored')).to.equal(true);
      expect(keys.state).to.equal('completed');
      expect(hits.filter((h) => h.path === '/ivr/speech')).to.have.length(1);
    });

    it('reports a Dial outcome and its recording to the action and the recording callback', async () => {
      const c = call({ onDial: () => ({ status: 'completed', durationSeconds: 95 }) });
      await c.start();
      await c.press('3');
      expect(c.lastPrompt()).to.equal('Dial ended: completed.');
      const dialed = c.transcript.find((e) => e.type === 'dialed');
      expect(dialed).to.deep.include({ status: 'completed', durationSeconds: 95 });
      const done = hits.find((h) => h.path === '/ivr/dial-done')?.params;
      expect(done).to.include({ DialCallStatus: 'completed', DialCallDuration: '95', RecordingDuration: '95' });
      expect(done?.RecordingSid).to.match(/^RE[0-9a-f]{32}$/);
      expect(hits.find((h) => h.path === '/ivr/recording-status')?.params).to.include({ RecordingStatus: 'completed', RecordingSource: 'DialVerb', RecordingSid: done?.RecordingSid });
      expectHealthy(c);
    });

    it('records a message until the finish key, then posts the recording to the action', async () => {
      let now = new Date('2030-03-01T15:00:00Z');
      const c = call({ clock: () => now });
      await c.start();
      await c.press('5');
      expect(c.state).to.equal('recording');
      expect(c.transcript.find((e) => e.type === 'record')).to.deep.include({ action: `${PUBLIC_BASE}/ivr/recorded`, maxLength: 30, finishOnKey: '#' });
      now = new Date(now.getTime() + 12_000);
      await c.press('12'); // not a finish key: just sound on the tape
      expect(c.state).to.equal('recording');
      await c.press('#');
      expect(c.lastPrompt()).to.equal('Got 12 seconds, ended by #.');
      expect(hits.find((h) => h.path === '/ivr/recording-status')?.params).to.include({ RecordingSource: 'RecordVerb', RecordingDuration: '12' });

      const silent = call();
      await silent.start();
      await silent.press('5');
      await silent.finishRecording({ durationSeconds: 0 }); // empty: Twilio skips the action
      expect(silent.endReason).to.equal('end_of_document');
      expect(hits.filter((h) => h.path === '/ivr/recorded')).to.have.length(1);
      expectHealthy(c);
    });

    it('skips verbs it does not model, with a warning', async () => {
      const c = call();
      await c.start();
      await c.press('6');
      expect(c.lastPrompt()).to.equal('Payments by phone are not available.');
      expect(c.warnings).to.deep.equal(['Unsupported verb <Pay> was skipped.']);
      expect(c.applicationError).to.equal(undefined);
    });

    describe('queue', () => {
      it('enqueues with waitUrl, reports queue position and time, and posts the Enqueue action on leave', async () => {
        let now = new Date('2030-03-01T15:00:00Z');
        const c = call({ clock: () => now, queueStats: () => ({ position: 3, size: 5, averageWaitSeconds: 120 }) });
        await c.start();
        await c.press('2');
        expect(c.state).to.equal('queued');
        expect(c.queue).to.equal('numismatists');
        expect(c.lastPrompt()).to.equal('Connecting you to a numismatist. You are caller number 3.');
        expect(c.transcript.find((e) => e.type === 'enqueued')).to.deep.include({ queue: 'numismatists' });
        const wait = hits.find((h) => h.path === '/ivr/wait')?.params;
        expect(wait).to.include({ QueuePosition: '3', CurrentQueueSize: '5', QueueTime: '0', AvgQueueTime: '120' });
        expect(wait?.QueueSid).to.match(/^QU[0-9a-f]{32}$/);

        now = new Date(now.getTime() + 42_000);
        await c.continueWaiting();
        expect(hits.filter((h) => h.path === '/ivr/wait').at(-1)?.params).to.include({ QueueTime: '42' });
        expect(c.state).to.equal('queued');

        await c.leaveQueue();
        expect(c.lastPrompt()).to.equal('Please leave a message after the tone.');
        expect(hits.find((h) => h.path === '/ivr/after-queue')?.params).to.include({ QueueResult: 'leave', QueueTime: '42', QueueSid: wait?.QueueSid });
        expect(c.state).to.equal('completed');
        expect(c.transcript.some((e) => e.type === 'say' && e.text.startsWith('Unreachable'))).to.equal(false);
        expectHealthy(c);
      });

      it('posts QueueResult=hangup with CallStatus completed when the caller hangs up in the queue', async () => {
        const c = call();
        await c.start();
        await c.press('2');
        await c.hangup();
        expect(c.state).to.equal('completed');
        expect(c.endReason).to.equal('caller_hangup');
        expect(hits.find((h) => h.path === '/ivr/after-queue')?.params).to.include({ QueueResult: 'hangup', CallStatus: 'completed' });
        expect(hits.at(-1)).to.deep.include({ path: '/ivr/status' });
        await c.hangup(); // idempotent
        expectHealthy(c);
      });

      it('bridges to an agent with an announcement, then continues with the Enqueue action', async () => {
        const c = call();
        await c.start();
        await c.press('2');
        await c.bridge({ url: '/ivr/queue-announce' });
        expect(c.state).to.equal('bridged');
        expect(c.lastPrompt()).to.equal('Connecting you now; this call may be recorded.');
        expect(hits.find((h) => h.path === '/ivr/queue-announce')?.params).to.have.property('DequeingCallSid');
        await c.endBridge();
        expect(c.lastPrompt()).to.equal('Thanks for calling Mintdesk.');
        expect(hits.find((h) => h.path === '/ivr/after-queue')?.params).to.include({ QueueResult: 'bridged' });
        expect(c.state).to.equal('completed');
        expectHealthy(c);
      });
    });

    it('refuses caller actions that do not fit the state, without ending the call', async () => {
      const c = call();
      await c.start();
      await expectRejection(c.press('1x'), ValidationError);
      await expectRejection(c.leaveQueue(), ConflictError);
      await expectRejection(c.endBridge(), ConflictError);
      expect(c.state).to.equal('awaiting_input');
      await c.press('1');
      await expectRejection(c.press('1'), ConflictError);
    });

    it('waitFor resolves on the state, and rejects when the call ends elsewhere', async () => {
      const c = call();
      const started = c.start();
      await c.waitFor('awaiting_input');
      await started;
      const other = call({ voicePath: '/ivr/broken' });
      void other.start().catch(() => undefined);
      await expectRejection(other.waitFor('awaiting_input'), ConflictError);
    });

    it('handles a hangup while a webhook is in flight', async () => {
      const c = call({ voicePath: '/ivr/slow' });
      const started = c.start();
      expect(c.state).to.equal('running');
      await c.hangup();
      await started;
      expect(c.state).to.equal('completed');
      expect(c.endReason).to.equal('caller_hangup');
      expect(c.transcript.some((e) => e.type === 'gather')).to.equal(false);
    });

    it('honours a leading Reject without answering the call', async () => {
      const c = call({ voicePath: '/ivr/reject' });
      await c.start();
      expect(c.endReason).to.equal('rejected');
      expect(c.transcript.some((e) => e.type === 'say')).to.equal(false);
      expect(hits.at(-1)?.params).to.include({ CallStatus: 'busy' });
    });
  });

  describe('application errors', () => {
    it('a bad signature is rejected by the IVR and the call reports an application error', async () => {
      const c = call({ authToken: 'not-the-configured-token' });
      await c.start();
      expect(rejected).to.include('/ivr/voice');
      expect(c.state).to.equal('failed');
      expect(c.endReason).to.equal('application_error');
      expect(c.applicationError).to.deep.include({ code: 'http_status', status: 403, twilioCode: 11200, url: `${PUBLIC_BASE}/ivr/voice` });
    });

    it('a signature over the internal URL (no proxy awareness) is rejected too', async () => {
      const c = call({ baseUrl: internalBase, connectTo: undefined, statusCallbackUrl: undefined });
      await c.start();
      expect(rejected).to.deep.equal(['/ivr/voice']);
      expect(c.applicationError).to.deep.include({ code: 'http_status', status: 403 });
    });

    it('stops a Redirect loop at the limit', async () => {
      const c = call({ voicePath: '/ivr/loop', maxRedirects: 5 });
      await c.start();
      expect(c.state).to.equal('failed');
      expect(c.applicationError).to.deep.include({ code: 'redirect_loop' });
      expect(hits.filter((h) => h.path === '/ivr/loop')).to.have.length(5);
    });

    it('ends the call on a 5xx, a non-TwiML content type, or malformed TwiML', async () => {
      const cases = [
        { path: '/ivr/broken', code: 'http_status', twilioCode: 11200 },
        { path: '/ivr/json', code: 'content_type', twilioCode: 12300 },
        { path: '/ivr/garbage', code: 'malformed_twiml', twilioCode: 12100 },
        { path: '/ivr/invalid', code: 'invalid_twiml', twilioCode: 12200 },
      ];
      for (const { path, code, twilioCode } of cases) {
        const c = call({ voicePath: path });
        await c.start();
        expect(c.state, path).to.equal('failed');
        expect(c.applicationError, path).to.deep.include({ code, twilioCode });
      }
    });

    it('refuses URLs outside the application and reports an unreachable server', async () => {
      const outside = call({ voicePath: 'https://elsewhere.example.test/ivr/voice' });
      await outside.start();
      expect(outside.applicationError).to.deep.include({ code: 'url_not_allowed' });

      const down = call({ connectTo: 'http://127.0.0.1:9', statusCallbackUrl: undefined });
      await down.start();
      expect(down.applicationError).to.deep.include({ code: 'connection', twilioCode: 11205 });
    });
  });
});

async function expectRejection(promise: Promise<unknown>, type: new (...args: never[]) => Error): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(type);
    return;
  }
  expect.fail(`expected a ${type.name}`);
}
