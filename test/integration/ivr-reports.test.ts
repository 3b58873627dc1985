import { expect } from 'chai';
import type { DayReport } from '../../api/ivr/schema.ts';
import { api } from '../support/http.ts';
import { createStaffUser, loginStaff, MINUTE } from '../support/staff-sessions.ts';
import { CLOSED_AT, createIvrContext, expectHealthy, placeCall, type IvrTestContext } from './ivr-support.ts';

/**
 * The supervisors' report on a known set of calls, all driven through the IVR: times come from the
 * test clock, which the app and the simulated phone network share.
 */
describe('IVR reports: calls per hour, containment, abandonment and wait by day', function () {
  this.timeout(120_000);
  let ctx: IvrTestContext;
  before(async () => {
    // Tuesday 2026-12-01 14:05 in New York.
    ctx = await createIvrContext({}, Date.parse('2026-12-01T19:05:00Z'));
  });
  after(async () => ctx?.close());

  const place = () => placeCall(ctx, undefined, { clock: ctx.time.clock });

  it('counts a known day of calls', async () => {
    // 14:05 self-served: hours and address.
    const selfServed = (await place()).call;
    await selfServed.press('1');
    await selfServed.timeout();
    await selfServed.press('3');
    await selfServed.hangup();

    // 14:20 queued for two minutes, then connected to a rep for a minute.
    ctx.time.set(Date.parse('2026-12-01T19:20:00Z'));
    const csrToken = await loginStaff(ctx, await createStaffUser(ctx, 'csr'));
    const connected = await place();
    await connected.call.press('1');
    await connected.call.timeout();
    await connected.call.press('0');
    ctx.time.advance(2 * MINUTE);
    expect((await api(ctx.baseUrl, 'POST', `/api/staff/ivr/calls/${connected.call.callSid}/accept`, { token: csrToken, body: {} })).status).to.equal(202);
    await ctx.runtime.phoneSimulator!.registry.waitForRepLeg(connected.call.callSid);
    ctx.time.advance(MINUTE);
    ctx.runtime.phoneSimulator!.registry.endRepLeg(connected.call.callSid, { durationSeconds: 60 });
    await connected.call.waitFor('completed');

    // 15:10 gives up after five minutes in the queue.
    ctx.time.set(Date.parse('2026-12-01T20:10:00Z'));
    const abandoned = (await place()).call;
    await abandoned.press('2');
    await abandoned.timeout();
    await abandoned.press('0');
    ctx.time.advance(5 * MINUTE);
    await abandoned.hangup();

    // 15:40 hangs up at the language menu.
    ctx.time.set(Date.parse('2026-12-01T20:40:00Z'));
    const hungUp = (await place()).call;
    await hungUp.hangup();

    // Sunday: closed, so a callback.
    ctx.time.set(CLOSED_AT);
    const callback = (await place()).call;
    await callback.press('1');
    await callback.timeout();
    await callback.press('0');
    await callback.press('1');
    await callback.press('1');
    await callback.press('1');
    expect(callback.state).to.equal('completed');

    for (const call of [selfServed, connected.call, abandoned, hungUp, callback]) expectHealthy(call);

    const supervisorToken = await loginStaff(ctx, await createStaffUser(ctx, 'supervisor'));
    const response = await api(ctx.baseUrl, 'GET', '/api/staff/ivr/reports?from=2026-12-01&to=2026-12-06', { token: supervisorToken });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    expect(response.body.timeZone).to.equal('America/New_York');
    const days = response.body.days as DayReport[];
    expect(days.map((d) => d.date)).to.deep.equal(['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05', '2026-12-06']);

    const tuesday = days[0]!;
    const perHour = Array.from({ length: 24 }, () => 0);
    perHour[14] = 2;
    perHour[15] = 2;
    expect(tuesday).to.deep.equal({
      date: '2026-12-01',
      calls: 4,
      callsPerHour: perHour,
      ended: 4,
      selfServed: 1,
      containmentRate: 0.25,
      queued: 2,
      abandonedInQueue: 1,
      abandonmentRate: 0.5,
      connected: 1,
      callbacks: 0,
      averageWaitSeconds: 210,
    });
    const quiet = days[2]!;
    expect(quiet).to.deep.include({ calls: 0, ended: 0, containmentRate: null, abandonmentRate: null, averageWaitSeconds: null });
    const sunday = days[5]!;
    expect(sunday).to.deep.include({ calls: 1, ended: 1, selfServed: 0, containmentRate: 0, queued: 0, abandonmentRate: null, callbacks: 1, averageWaitSeconds: null });
    expect(sunday.callsPerHour[11]).to.equal(1);

    const csr = await loginStaff(ctx, await createStaffUser(ctx, 'csr'));
    expect((await api(ctx.baseUrl, 'GET', '/api/staff/ivr/reports?from=2026-12-01&to=2026-12-06', { token: csr })).status).to.equal(403);
    const tooLong = await api(ctx.baseUrl, 'GET', '/api/staff/ivr/reports?from=2026-01-01&to=2026-12-31', { token: supervisorToken });
    expect(tooLong.status).to.equal(400);
  });
});
