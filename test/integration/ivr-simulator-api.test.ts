import { expect } from 'chai';
import { api } from '../support/http.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';
import { createIvrContext, type IvrTestContext } from './ivr-support.ts';

/**
 * The phone simulator's HTTP API (what the /simulator/ page drives): place a call, act as the
 * caller, follow the transcript by polling or Server-Sent Events, and be answered by a rep through
 * the staff API. The page itself is exercised by the browser test.
 */

interface View {
  id: string;
  callSid: string;
  state: string;
  queue: string | null;
  gather: { input: string[]; numDigits: number | null; finishOnKey: string } | null;
  repLeg: { recorded: boolean } | null;
  applicationError: unknown;
  events: { type: string; text?: string; language?: string }[];
  next: number;
}

const saysOf = (view: View) => view.events.filter((e) => e.type === 'say').map((e) => e.text).join(' ');

describe('phone simulator API', function () {
  this.timeout(120_000);
  let ctx: IvrTestContext;
  before(async () => {
    ctx = await createIvrContext();
  });
  after(async () => ctx?.close());

  const call = (method: string, path: string, body?: unknown) => api<View>(ctx.baseUrl, method, `/simulator/api${path}`, body === undefined ? {} : { body });

  it('places a call, acts as the caller, and a rep answers it through the staff API', async () => {
    const placed = await call('POST', '/calls', { from: '+12025550177' });
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
    const { id } = placed.body;
    expect(placed.body.callSid).to.equal(id);
    expect(placed.body.state).to.equal('awaiting_input');
    expect(placed.body.gather).to.deep.include({ input: ['dtmf', 'speech'], numDigits: 1 });
    expect(saysOf(placed.body)).to.contain('Thank you for calling Mint Store');
    expect(placed.body.events.find((e) => e.type === 'say' && e.language === 'es-US')).to.not.equal(undefined);

    const pressed = await call('POST', `/calls/${id}/press?after=${placed.body.next}`, { digits: '1' });
    expect(pressed.status).to.equal(200);
    expect(pressed.body.events[0]).to.deep.include({ type: 'caller' });
    expect(saysOf(pressed.body)).to.contain('may be recorded');
    const silent = await call('POST', `/calls/${id}/timeout?after=${pressed.body.next}`);
    expect(saysOf(silent.body)).to.contain('Main menu.');
    const spoke = await call('POST', `/calls/${id}/say?after=${silent.body.next}`, { speech: 'representative please' });
    expect(spoke.body.queue).to.equal('mintdesk-customer-service');
    expect(saysOf(spoke.body)).to.contain('You are number 1 in line.');

    const polled = await call('GET', `/calls/${id}?after=0`);
    expect(polled.body.events.length).to.equal(spoke.body.next);

    const token = await loginStaff(ctx, await createStaffUser(ctx, 'csr'));
    const waiting = await api(ctx.baseUrl, 'GET', '/api/staff/ivr/calls/waiting', { token });
    expect(waiting.body.items.map((w: { callSid: string; callerId: string }) => [w.callSid, w.callerId])).to.deep.include([id, '+12025550177']);
    expect((await api(ctx.baseUrl, 'POST', `/api/staff/ivr/calls/${id}/accept`, { token, body: {} })).status).to.equal(202);
    await ctx.runtime.phoneSimulator!.registry.waitForRepLeg(id);
    const onCall = await call('GET', `/calls/${id}`);
    expect(onCall.body.repLeg).to.deep.include({ recorded: true });

    const repHungUp = await call('POST', `/calls/${id}/rep-hangup?after=${spoke.body.next}`);
    expect(repHungUp.status).to.equal(200);
    expect(repHungUp.body.state).to.equal('completed');
    expect(repHungUp.body.applicationError).to.equal(null);
    expect(saysOf(repHungUp.body)).to.contain('Goodbye.');
    expect((await call('POST', `/calls/${id}/rep-hangup`)).status).to.equal(409);
  });

  it('streams the transcript as Server-Sent Events', async () => {
    const placed = await call('POST', '/calls', {});
    const { id } = placed.body;
    const controller = new AbortController();
    const response = await fetch(`${ctx.baseUrl}/simulator/api/calls/${id}/stream?after=0`, { signal: controller.signal });
    expect(response.headers.get('content-type')).to.equal('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('event: state')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).to.contain('event: call-event').and.to.contain('Thank you for calling Mint Store');
    // A caller action arrives on the open stream too.
    await call('POST', `/calls/${id}/press`, { digits: '2' });
    while (!text.includes('pueden ser grabadas')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).to.contain('pueden ser grabadas');
    controller.abort();
    const hungUp = await call('POST', `/calls/${id}/hangup`);
    expect(hungUp.body.state).to.equal('completed');
    // A second hang-up is not an error, and keys after the end are refused.
    expect((await call('POST', `/calls/${id}/hangup`)).status).to.equal(200);
    expect((await call('POST', `/calls/${id}/press`, { digits: '1' })).status).to.equal(409);
  });

  it('validates what the page sends', async () => {
    expect((await call('POST', '/calls', { from: '555-0100' })).status).to.equal(400);
    expect((await call('GET', '/calls/CA00000000000000000000000000000000')).status).to.equal(404);
    const placed = await call('POST', '/calls', {});
    expect((await call('POST', `/calls/${placed.body.id}/press`, { digits: 'abc' })).status).to.equal(400);
    expect((await call('POST', `/calls/${placed.body.id}/say`, { speech: '' })).status).to.equal(400);
    await call('POST', `/calls/${placed.body.id}/hangup`);
  });
});
