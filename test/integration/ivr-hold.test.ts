import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { callRecordModel } from '../../api/ivr/model.ts';
import { api } from '../support/http.ts';
import { CLOSED_AT, createIvrContext, expectHealthy, OPEN_AT, placeCall, randomCaller, type IvrTestContext } from './ivr-support.ts';

/**
 * A caller on hold, through the simulated phone network: keys pressed during the hold reach the
 * wait document's Gather (press 1 leaves the line for a callback), the wait estimate follows the
 * caller's place in line and the handle times measured from answered calls, and the phone line's
 * hours are public.
 */
describe('IVR hold: keys on hold, the wait estimate and the line hours', function () {
  this.timeout(120_000);
  let ctx: IvrTestContext;
  before(async () => {
    ctx = await createIvrContext();
    // A fresh database's first requests create its collections and indexes; on a loaded machine that
    // can outlast the webhook time budget, and the caller would hear the apology instead of the menu.
    const warmUp = await placeCall(ctx);
    await warmUp.call.hangup();
  });
  after(async () => ctx?.close());

  /** English, notice heard, main menu, 0 for a representative: the caller is on hold. */
  async function callAndHold(from = randomCaller()) {
    const live = await placeCall(ctx, from);
    expect(live.call.lastPrompt()).to.contain('For English, press 1');
    await live.call.press('1');
    await live.call.timeout();
    await live.call.press('0');
    expect(live.call.queue, live.call.lastPrompt()).to.equal('mintdesk-customer-service');
    return live;
  }

  it('a caller who presses 1 on hold, after the hold audio ran out, leaves the line and reaches the callback flow', async () => {
    const caller = randomCaller();
    const { call } = await callAndHold(caller);
    expect(call.state, "the wait document's Gather listens during the hold audio").to.equal('awaiting_input');
    expect(call.lastPrompt()).to.contain('press 1 at any time');
    // The hold audio ends with no key: the wait document is over, Twilio is fetching the next one.
    await call.timeout();
    expect(call.state).to.equal('queued');

    await call.press('1');
    expect(call.queue, 'the caller left the line').to.equal(undefined);
    expect(call.lastPrompt()).to.contain(`We can call you back at the number ending in ${caller.slice(-4).split('').join(' ')}`);
    const waitRequests = call.transcript.filter((e) => e.type === 'http' && e.purpose === 'wait');
    expect(waitRequests.length, 'the next wait document was fetched and its Gather got the key').to.be.at.least(2);
    const pressed = call.transcript.find((e) => e.type === 'caller' && e.action === 'press' && e.digits === '1' && call.transcript.indexOf(e) > call.transcript.indexOf(waitRequests.at(-1)!));
    expect(pressed).to.not.equal(undefined);
    expect(call.transcript.some((e) => e.type === 'input_ignored')).to.equal(false);

    await call.press('1');
    await call.press('2');
    expect(call.lastPrompt()).to.contain('A representative will call you back');
    expect(call.state).to.equal('completed');
    expectHealthy(call);
    const record = await callRecordModel(ctx.services.core.mongo).findById(call.callSid).lean();
    expect(record?.outcome).to.equal('callback');
    expect(record?.queue?.result).to.equal('leave');
  });

  it('recomputes the wait estimate from the place in line and the measured handle times as the caller moves up', async () => {
    // Five answered calls of two minutes each, this morning: the measured handle time is 120 s.
    const Calls = callRecordModel(ctx.services.core.mongo);
    const startedAt = new Date(OPEN_AT - 3 * 3600_000);
    await Calls.create(
      Array.from({ length: 5 }, () => ({
        _id: `CA${randomBytes(16).toString('hex')}`,
        callerId: randomCaller(),
        to: ctx.runtime.phone.storeNumber,
        startedAt,
        day: '2026-12-01',
        hour: 11,
        outcome: 'connected',
        connected: { staffUserId: 'rep-1', at: startedAt, durationSeconds: 120 },
      })) as never,
    );
    // Past the minute the service keeps a measurement for.
    ctx.time.advance(2 * 60_000);

    const first = await callAndHold();
    expect(first.call.lastPrompt()).to.contain('You are number 1 in line.').and.to.contain('Your estimated wait is about 2 minutes.');
    const second = await callAndHold();
    expect(second.call.lastPrompt()).to.contain('You are number 2 in line.').and.to.contain('Your estimated wait is about 4 minutes.');

    await first.call.hangup();
    // The second caller's hold audio runs out; the next wait document knows the new place in line.
    await second.call.timeout();
    await second.call.continueWaiting();
    expect(second.call.lastPrompt()).to.contain('You are number 1 in line.').and.to.contain('Your estimated wait is about 2 minutes.');
    await second.call.hangup();
    expectHealthy(second.call);
  });

  it('tells anyone the line hours and whether a call reaches a person now', async () => {
    ctx.time.set(OPEN_AT);
    const open = await api(ctx.baseUrl, 'GET', '/api/phone-line');
    expect(open.status).to.equal(200);
    expect(open.body).to.deep.include({ storeName: 'Mint Store', storeNumber: ctx.runtime.phone.storeNumber, openNow: true, holidayToday: null, timeZone: 'America/New_York' });
    expect(open.body.hours).to.equal('Monday through Friday, 8:30 AM to 8 PM, and Saturday, 9 AM to 5 PM, Eastern Time');

    ctx.time.set(CLOSED_AT);
    const closed = await api(ctx.baseUrl, 'GET', '/api/phone-line');
    expect(closed.body.openNow).to.equal(false);
    expect(closed.body.nextOpening).to.deep.equal({ date: '2026-12-07', weekday: 'mon', time: '08:30', daysAhead: 1 });
    ctx.time.set(OPEN_AT);
  });
});
