import { expect } from 'chai';
import { formatOrderNumberForDisplay, formatOrderNumberForSpeech } from '../../api/orders/order-number.ts';
import type { CallRecordDoc } from '../../api/ivr/model.ts';
import { callRecordModel, pendingRecordingModel } from '../../api/ivr/model.ts';
import type { DomainEvent } from '../../platform/events.ts';
import { createProduct } from '../support/fixtures.ts';
import { api } from '../support/http.ts';
import { capturedLogLines } from '../support/infra.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';
import { CLOSED_AT, createIvrContext, expectHealthy, insertOrder, lastGather, placeCall, randomCaller, type IvrTestContext } from './ivr-support.ts';

/**
 * Every menu path of the IVR, end to end: the simulated call plays Twilio (signed webhooks over
 * real HTTP, TwiML interpreted as Twilio would) against the real app on FerretDB and Redis.
 */

const WRONG_CHECK_DIGIT = (orderNumber: string) => orderNumber.slice(0, 7) + String((Number(orderNumber[7]) + 1) % 10);

async function record(ctx: IvrTestContext, callSid: string): Promise<CallRecordDoc> {
  const doc = await callRecordModel(ctx.services.core.mongo).findById(callSid).lean<CallRecordDoc>();
  if (!doc) throw new Error(`no call record for ${callSid}`);
  return doc;
}

async function eventsFor(ctx: IvrTestContext, callSid: string): Promise<DomainEvent[]> {
  const events = await ctx.services.core.events.readSince('0', 5000);
  return events.filter((e) => (e.data as { callSid?: string }).callSid === callSid);
}

describe('IVR flows: every menu path with the simulated call', function () {
  this.timeout(180_000);

  describe('during business hours', () => {
    let ctx: IvrTestContext;
    let csrToken: string;
    let csrId: string;
    before(async () => {
      ctx = await createIvrContext();
      const csr = await createStaffUser(ctx, 'csr');
      csrId = csr.id;
      csrToken = await loginStaff(ctx, csr);
    });
    after(async () => ctx?.close());

    const waiting = async () => {
      const response = await api(ctx.baseUrl, 'GET', '/api/staff/ivr/calls/waiting', { token: csrToken });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      return response.body.items as { callSid: string; callerId: string; customer: { id: string; name: string } | null; entered: Record<string, string>; recordingDeclined: boolean; language: string; tty: boolean; position: number }[];
    };

    it('English, keypad: order number, billing ZIP, then the status in natural speech; repeat, menu, hours', async () => {
      const order = await insertOrder(ctx, { status: 'shipped', quantities: [2, 1], shipments: [{ carrier: 'UPS', shippedAt: new Date('2026-11-24T15:00:00Z') }] });
      const { call } = await placeCall(ctx);
      expect(call.lastPrompt()).to.contain('For English, press 1').and.to.contain('Para español, oprima 2');
      await call.press('1');
      expect(call.lastPrompt()).to.contain('may be recorded').and.to.contain('press 9 now');
      await call.timeout();
      expect(call.lastPrompt()).to.contain('For the status of an order, press 1');
      await call.press('1');
      expect(call.lastPrompt()).to.contain('eight-digit order number');
      await call.press(order.orderNumber);
      // Nothing about the order before the billing ZIP.
      expect(call.lastPrompt()).to.contain('ZIP code of the billing address').and.not.to.contain('found');
      await call.press('20220');
      const status = call.lastPrompt();
      expect(status).to.contain(`I found order ${formatOrderNumberForSpeech(order.orderNumber)}, placed on Friday, November 20.`);
      expect(status).to.contain('It has 3 items.');
      expect(status).to.contain('It shipped on Tuesday, November 24, by U P S.');
      await call.press('1');
      expect(call.lastPrompt()).to.contain('It has 3 items.');
      await call.press('*');
      expect(call.lastPrompt()).to.contain('Main menu.');
      await call.press('3');
      expect(call.lastPrompt()).to.contain('Our representatives are available Monday through Friday, 8:30 AM to 8 PM, and Saturday, 9 AM to 5 PM, Eastern Time.');
      await call.timeout();
      expect(call.lastPrompt()).to.contain("didn't hear");
      await call.timeout();
      expect(call.state).to.equal('completed');
      expect(call.endReason).to.equal('hangup_verb');
      expectHealthy(call);

      const stored = await record(ctx, call.callSid);
      expect(stored.outcome).to.equal('self_served');
      expect(stored.language).to.equal('en');
      expect(stored.endedAt).to.be.an.instanceOf(Date);
      expect(stored.mSelfServed).to.equal(1);
      expect(stored.entered.verifiedOrderNumber).to.equal(formatOrderNumberForDisplay(order.orderNumber));
      const nodes = stored.path.map((p) => `${p.node}:${p.result ?? ''}`);
      expect(nodes).to.include.members(['greeting:', 'language:en', 'recording:accepted', 'main_menu:order_status', 'order_number:accepted', 'order_zip:verified', 'followup:repeat', 'main_menu:hours_address']);
      // The digits that identify the order are in neither the path nor the logs; a keyed reference is.
      expect(JSON.stringify(stored.path)).not.to.contain(order.orderNumber);
      expect(stored.path.find((p) => p.node === 'order_number')?.ref).to.match(/^[A-Za-z0-9_-]{12}$/);
      expect(capturedLogLines.join('\n')).not.to.contain(order.orderNumber);
    });

    it('Spanish, speech: language, menu, order number and ZIP said aloud', async () => {
      const order = await insertOrder(ctx, { status: 'paid', zip: '30301', quantities: [1] });
      const words = ['cero', 'uno', 'dos', 'tres', 'cuatro', 'cinco', 'seis', 'siete', 'ocho', 'nueve'];
      const spoken = (digits: string) => digits.split('').map((d) => words[Number(d)]).join(' ');
      const { call } = await placeCall(ctx);
      await call.say('Español');
      expect(call.lastPrompt()).to.contain('pueden ser grabadas');
      await call.timeout();
      expect(call.lastPrompt()).to.contain('Para el estado de un pedido, oprima 1');
      expect(lastGather(call).language).to.equal('es-US');
      await call.say('Quiero saber el estado de mi pedido');
      expect(call.lastPrompt()).to.contain('número de pedido de ocho dígitos');
      await call.say(spoken(order.orderNumber));
      expect(call.lastPrompt()).to.contain('código postal');
      await call.say(spoken('30301'));
      const status = call.lastPrompt();
      expect(status).to.contain(`Encontré el pedido ${formatOrderNumberForSpeech(order.orderNumber)}, realizado el viernes, 20 de noviembre.`);
      expect(status).to.contain('Tiene 1 artículo.').and.to.contain('Está pagado y se está preparando para el envío.');
      await call.say('menú principal');
      expect(call.lastPrompt()).to.contain('Menú principal.');
      await call.say('horario');
      expect(call.lastPrompt()).to.contain('Nuestros representantes están disponibles de lunes a viernes');
      await call.hangup();
      expectHealthy(call);
      expect((await record(ctx, call.callSid)).outcome).to.equal('self_served');
    });

    it('new releases and product information, by speech in English and by key in Spanish', async () => {
      await createProduct(ctx.services, { name: '2026 American Liberty Silver Medal', priceCents: 9_550 });
      const english = (await placeCall(ctx)).call;
      await english.press('1');
      await english.timeout();
      await english.say('I would like to hear about new releases');
      expect(english.lastPrompt()).to.contain('Here are our newest releases.').and.to.contain('2026 American Liberty Silver Medal, 95 dollars and 50 cents.');
      await english.hangup();
      expectHealthy(english);

      const spanish = (await placeCall(ctx)).call;
      await spanish.press('2');
      await spanish.timeout();
      await spanish.press('2');
      expect(spanish.lastPrompt()).to.contain('Estos son nuestros lanzamientos más recientes.').and.to.contain('95 dólares con 50 centavos');
      await spanish.press('0');
      expect(spanish.lastPrompt()).to.contain('Por favor espere al próximo representante disponible.');
      expect(spanish.queue).to.equal('mintdesk-customer-service');
      await spanish.hangup();
      expectHealthy(spanish);
      const stored = await record(ctx, spanish.callSid);
      expect(stored.outcome).to.equal('abandoned');
      expect(stored.abandonedIn).to.equal('queue');
    });

    it('TTY information switches the call to long input timeouts', async () => {
      const { call } = await placeCall(ctx);
      await call.press('1');
      expect(lastGather(call).timeout).to.equal(3);
      await call.timeout();
      expect(lastGather(call).timeout).to.equal(6);
      await call.press('4');
      expect(call.lastPrompt()).to.contain('relay service').and.to.contain('wait longer');
      // The number to give the relay operator is said, digit by digit: the store's own.
      expect(ctx.runtime.phone.storeNumber).to.equal('+12025550199');
      expect(call.lastPrompt()).to.contain('dialing 7 1 1 and giving the operator our number, 2 0 2, 5 5 5, 0 1 9 9.');
      expect(lastGather(call).timeout).to.equal(30);
      await call.press('*');
      expect(lastGather(call).timeout).to.equal(30);
      await call.press('0');
      expect((await waiting()).find((w) => w.callSid === call.callSid)?.tty).to.equal(true);
      await call.hangup();
      expectHealthy(call);
      expect((await record(ctx, call.callSid)).tty).to.equal(true);
    });

    it('three wrong order numbers lead to a rep, not a hang-up; the rep sees what happened', async () => {
      const order = await insertOrder(ctx);
      const { call } = await placeCall(ctx);
      await call.press('1');
      await call.timeout();
      await call.press('1');
      await call.press(WRONG_CHECK_DIGIT(order.orderNumber));
      expect(call.lastPrompt()).to.contain("doesn't seem right");
      await call.press('1234');
      expect(call.lastPrompt()).to.contain("doesn't seem right");
      await call.timeout();
      expect(call.lastPrompt()).to.contain('connect you with a representative');
      expect(call.queue).to.equal('mintdesk-customer-service');
      const entry = (await waiting()).find((w) => w.callSid === call.callSid);
      expect(entry?.entered).to.deep.include({ reason: 'order_verification_failed', orderVerification: 'failed 3 times' });
      expect(JSON.stringify(entry)).not.to.contain(order.orderNumber);
      await call.hangup();
      expectHealthy(call);
    });

    it('requires the billing ZIP: a wrong ZIP, or an order that does not exist, hears the same thing', async () => {
      const order = await insertOrder(ctx, { zip: '10001' });
      const { call } = await placeCall(ctx);
      await call.press('1');
      await call.timeout();
      await call.press('1');
      await call.press(order.orderNumber);
      await call.press('10002');
      const wrongZip = call.lastPrompt();
      expect(wrongZip).to.contain("couldn't find an order with that order number and ZIP code").and.not.to.contain('I found order');
      // A check-digit-valid number nobody has: asked for the ZIP all the same, then the same answer.
      let unknown = order.orderNumber;
      for (let i = 0; unknown === order.orderNumber || (await ctx.services.orders.findByNumber(unknown)); i += 1) unknown = (await import('../../api/orders/order-number.ts')).generateOrderNumber();
      await call.press(unknown);
      expect(call.lastPrompt()).to.contain('ZIP code of the billing address');
      await call.press('10001');
      expect(call.lastPrompt()).to.contain("couldn't find an order with that order number and ZIP code");
      await call.press(order.orderNumber);
      await call.press('10001');
      expect(call.lastPrompt()).to.contain(`I found order ${formatOrderNumberForSpeech(order.orderNumber)}`);
      await call.hangup();
      expectHealthy(call);
      const stored = await record(ctx, call.callSid);
      expect(stored.path.filter((p) => p.node === 'order_zip').map((p) => p.result)).to.deep.equal(['not_verified', 'not_verified', 'verified']);
      // Failed verifications are logged with the keyed reference of the number, never the digits.
      const failures = capturedLogLines.filter((line) => line.includes('IVR order verification failed') && line.includes(call.callSid));
      expect(failures).to.have.length(2);
      expect(JSON.parse(failures[0]!).ref).to.equal(stored.path.find((p) => p.node === 'order_number')?.ref);
      expect(failures.join('\n')).not.to.contain(order.orderNumber).and.not.to.contain(unknown).and.not.to.contain('10002');
    });

    it('silence or nonsense at the main menu three times reaches a rep; silence at the language menu defaults to English', async () => {
      const { call } = await placeCall(ctx);
      await call.timeout();
      expect(call.lastPrompt()).to.contain("Sorry, I didn't hear a response.").and.to.contain('Lo siento');
      await call.timeout();
      await call.timeout();
      expect(call.lastPrompt()).to.contain('may be recorded');
      await call.timeout();
      await call.say('banana bread');
      expect(call.lastPrompt()).to.contain("didn't understand");
      await call.press('8');
      await call.timeout();
      expect(call.lastPrompt()).to.contain('Please hold for the next available representative.');
      expect(call.queue).to.equal('mintdesk-customer-service');
      await call.hangup();
      expectHealthy(call);
    });

    it('queues a caller with the screen pop, and a rep accepts through the staff API: recorded, stored as pending', async () => {
      const caller = randomCaller();
      const { customerId } = await ctx.services.customers.upsertGuest({ firstName: 'Grace', lastName: 'Hopper', email: `grace-${Date.now()}@example.com`, phone: caller }, { source: 'phone' });
      const order = await insertOrder(ctx, { status: 'delivered', shipments: [{ carrier: 'FedEx', shippedAt: new Date('2026-11-23T15:00:00Z') }] });
      const live = await placeCall(ctx, caller);
      const { call } = live;
      await call.press('1');
      await call.timeout();
      await call.press('1');
      await call.press(order.orderNumber);
      await call.press('20220');
      expect(call.lastPrompt()).to.contain('It has been delivered.').and.to.contain('It shipped on Monday, November 23, by FedEx.');
      await call.press('0');
      expect(call.state).to.equal('awaiting_input'); // the wait document's Gather (press 1 for a callback)
      expect(call.lastPrompt()).to.contain('You are number 1 in line.').and.to.contain('about 3 minutes');

      const published = await eventsFor(ctx, call.callSid);
      const announced = published.find((e) => e.type === 'call.waiting');
      expect(announced?.data).to.deep.include({ callerId: caller, customerId, language: 'en', recordingDeclined: false, tty: false, queue: 'mintdesk-customer-service' });
      expect((announced?.data as { entered: Record<string, string> }).entered).to.deep.include({ reason: 'asked_for_rep', verifiedOrderNumber: formatOrderNumberForDisplay(order.orderNumber) });

      const entry = (await waiting()).find((w) => w.callSid === call.callSid);
      expect(entry).to.deep.include({ callerId: caller, customer: { id: customerId, name: 'Grace Hopper' }, language: 'en', recordingDeclined: false });
      const listAudit = await ctx.services.audit.query({ action: 'call.waiting_list', page: 1, pageSize: 5 });
      expect(listAudit.total).to.be.greaterThan(0);

      const accepted = await api(ctx.baseUrl, 'POST', `/api/staff/ivr/calls/${call.callSid}/accept`, { token: csrToken, body: {} });
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202);
      const again = await api(ctx.baseUrl, 'POST', `/api/staff/ivr/calls/${call.callSid}/accept`, { token: csrToken, body: {} });
      expect(again.status).to.equal(409);

      const leg = await ctx.runtime.phoneSimulator!.registry.waitForRepLeg(call.callSid);
      expect(leg.recorded).to.equal(true);
      expect(leg.targets).to.deep.equal([`staff-${csrId}`]);
      expect(call.lastPrompt()).to.contain('Connecting you to a representative now.');
      expect(ctx.runtime.phoneSimulator!.registry.endRepLeg(call.callSid, { durationSeconds: 42 })).to.equal(true);
      await call.waitFor('completed');
      expect(call.lastPrompt()).to.contain('Thank you for calling Mint Store. Goodbye.');
      expectHealthy(call);

      const stored = await record(ctx, call.callSid);
      expect(stored.outcome).to.equal('connected');
      expect(stored.connected).to.deep.include({ staffUserId: csrId, durationSeconds: 42 });
      expect(stored.mConnected).to.equal(1);
      const recordings = await pendingRecordingModel(ctx.services.core.mongo).find({ callSid: call.callSid }).lean();
      expect(recordings).to.have.length(1);
      expect(recordings[0]).to.deep.include({ durationSeconds: 42, channels: 2, staffUserId: csrId, customerId, recordingDeclined: false, ingestState: 'pending', status: 'completed' });
      expect(recordings[0]!._id).to.match(/^RE[0-9a-f]{32}$/);
      expect((await eventsFor(ctx, call.callSid)).map((e) => e.type)).to.include.members(['call.waiting', 'call.connected', 'call.left_queue']);
    });

    it('honours a declined recording: the rep leg is dialled without recording and the rep is told', async () => {
      const { call } = await placeCall(ctx);
      await call.press('1');
      await call.press('9');
      expect(call.lastPrompt()).to.contain('Your call will not be recorded.');
      await call.press('0');
      expect((await waiting()).find((w) => w.callSid === call.callSid)?.recordingDeclined).to.equal(true);
      const accepted = await api(ctx.baseUrl, 'POST', `/api/staff/ivr/calls/${call.callSid}/accept`, { token: csrToken, body: {} });
      expect(accepted.status).to.equal(202);
      const leg = await ctx.runtime.phoneSimulator!.registry.waitForRepLeg(call.callSid);
      expect(leg.recorded).to.equal(false);
      const dialed = call.transcript.find((e) => e.type === 'http' && e.purpose === 'redirect');
      expect(dialed).to.not.equal(undefined);
      ctx.runtime.phoneSimulator!.registry.endRepLeg(call.callSid, { durationSeconds: 12 });
      await call.waitFor('completed');
      expectHealthy(call);
      expect(call.transcript.some((e) => e.type === 'http' && e.purpose === 'recording_status_callback')).to.equal(false);
      expect(await pendingRecordingModel(ctx.services.core.mongo).countDocuments({ callSid: call.callSid })).to.equal(0);
      const stored = await record(ctx, call.callSid);
      expect(stored.recordingDeclined).to.equal(true);
      expect(stored.path.map((p) => `${p.node}:${p.result ?? ''}`)).to.include.members(['recording:declined', 'rep:dialing_unrecorded']);
      // The whisper the rep hears (Twilio fetches it when the rep answers) says so too.
      const whisper = await ctx.services.ivr.callFacts(call.callSid);
      expect(whisper?.recordingDeclined).to.equal(true);
    });

    it('a rep who does not answer sends the caller back to the queue', async () => {
      const { call } = await placeCall(ctx);
      await call.press('1');
      await call.timeout();
      await call.press('0');
      expect((await api(ctx.baseUrl, 'POST', `/api/staff/ivr/calls/${call.callSid}/accept`, { token: csrToken, body: {} })).status).to.equal(202);
      await ctx.runtime.phoneSimulator!.registry.waitForRepLeg(call.callSid);
      ctx.runtime.phoneSimulator!.registry.endRepLeg(call.callSid, { status: 'no-answer', durationSeconds: 0 });
      await call.waitFor('awaiting_input');
      expect(call.lastPrompt()).to.contain('could not take your call').and.to.contain('You are number');
      expect((await waiting()).some((w) => w.callSid === call.callSid)).to.equal(true);
      await call.hangup();
      expectHealthy(call);
      const stored = await record(ctx, call.callSid);
      expect(stored.outcome).to.equal('abandoned');
      expect(stored.abandonedIn).to.equal('queue');
    });

    it('a waiting caller can press 1 to leave the queue and ask for a callback instead', async () => {
      const caller = randomCaller();
      const { call } = await placeCall(ctx, caller);
      await call.press('1');
      await call.timeout();
      await call.press('0');
      expect(call.lastPrompt()).to.contain('press 1 at any time');
      await call.press('1');
      expect(call.lastPrompt()).to.contain(`number ending in ${caller.slice(-4).split('').join(' ')}`);
      await call.press('1');
      await call.press('3');
      expect(call.lastPrompt()).to.contain('A representative will call you back in the evening.');
      expect(call.state).to.equal('completed');
      expectHealthy(call);
      const stored = await record(ctx, call.callSid);
      expect(stored.outcome).to.equal('callback');
      expect(stored.queue?.result).to.equal('leave');
      expect((await waiting()).some((w) => w.callSid === call.callSid)).to.equal(false);
    });
  });

  describe('after hours', () => {
    let ctx: IvrTestContext;
    let csrToken: string;
    before(async () => {
      ctx = await createIvrContext({}, CLOSED_AT);
      csrToken = await loginStaff(ctx, await createStaffUser(ctx, 'csr'), CLOSED_AT);
    });
    after(async () => ctx?.close());

    it('offers a callback with the caller id and best time; CSRs see the task and the event is published', async () => {
      const caller = randomCaller();
      const { call } = await placeCall(ctx, caller);
      await call.press('1');
      await call.timeout();
      await call.press('0');
      expect(call.lastPrompt()).to.contain('not available right now').and.to.contain('To request a call back, press 1. For the main menu, press star.');
      await call.press('1');
      await call.press('1');
      expect(call.lastPrompt()).to.contain('Press 1 for morning, 2 for afternoon, or 3 for evening.');
      await call.press('2');
      // Sunday 11:00: the next opening is Monday morning.
      expect(call.lastPrompt()).to.contain('A representative will call you back tomorrow, in the afternoon.');
      expect(call.state).to.equal('completed');
      expectHealthy(call);

      const list = await api(ctx.baseUrl, 'GET', '/api/staff/ivr/callbacks', { token: csrToken });
      expect(list.status).to.equal(200);
      const task = list.body.items.find((c: { callSid: string }) => c.callSid === call.callSid);
      expect(task).to.deep.include({ phone: caller, phoneSource: 'caller_id', bestTime: 'afternoon', language: 'en', status: 'open' });
      const events = await eventsFor(ctx, call.callSid);
      expect(events.find((e) => e.type === 'callback.requested')?.data).to.deep.equal({ callbackId: task.id, callSid: call.callSid, bestTime: 'afternoon' });
      expect((await record(ctx, call.callSid)).outcome).to.equal('callback');

      const claimed = await api(ctx.baseUrl, 'POST', `/api/staff/ivr/callbacks/${task.id}/claim`, { token: csrToken, body: {} });
      expect(claimed.status).to.equal(200);
      expect(claimed.body.status).to.equal('claimed');
      const done = await api(ctx.baseUrl, 'POST', `/api/staff/ivr/callbacks/${task.id}/complete`, { token: csrToken, body: { result: 'reached', note: 'Explained the shipping delay.' } });
      expect(done.status).to.equal(200);
      expect(done.body).to.deep.include({ status: 'completed', result: 'reached' });
      const open = await api(ctx.baseUrl, 'GET', '/api/staff/ivr/callbacks?status=open', { token: csrToken });
      expect(open.body.items.some((c: { id: string }) => c.id === task.id)).to.equal(false);
    });

    it('takes a different callback number and a spoken best time, in Spanish', async () => {
      const { call } = await placeCall(ctx);
      await call.press('2');
      await call.timeout();
      await call.say('representante');
      expect(call.lastPrompt()).to.contain('no están disponibles en este momento');
      await call.say('que me llamen');
      await call.press('2');
      expect(call.lastPrompt()).to.contain('número de teléfono de diez dígitos');
      await call.press('12');
      expect(call.lastPrompt()).to.contain('no parece un número de teléfono');
      await call.press('2025550147');
      await call.say('el martes después de las cinco');
      expect(call.lastPrompt()).to.contain('a la hora que indicó');
      expectHealthy(call);
      const list = await api(ctx.baseUrl, 'GET', '/api/staff/ivr/callbacks', { token: csrToken });
      expect(list.body.items.find((c: { callSid: string }) => c.callSid === call.callSid)).to.deep.include({ phone: '+12025550147', phoneSource: 'entered', bestTime: 'el martes después de las cinco', language: 'es' });
    });
  });
});
