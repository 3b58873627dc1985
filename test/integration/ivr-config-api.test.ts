import { expect } from 'chai';
import { DEFAULT_IVR_CONFIG } from '../../api/ivr/defaults.ts';
import type { IvrConfig } from '../../api/ivr/schema.ts';
import { api } from '../support/http.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';
import { createIvrContext, expectHealthy, placeCall, type IvrTestContext } from './ivr-support.ts';

const clone = (config: IvrConfig): IvrConfig => structuredClone(config);

describe('IVR configuration: versioned, validated, editable by admins', function () {
  this.timeout(120_000);
  let ctx: IvrTestContext;
  let adminToken: string;
  let csrToken: string;
  before(async () => {
    ctx = await createIvrContext();
    adminToken = await loginStaff(ctx, await createStaffUser(ctx, 'admin'), ctx.time.now());
    csrToken = await loginStaff(ctx, await createStaffUser(ctx, 'csr'));
  });
  after(async () => ctx?.close());

  it('starts from the shipped numismatic-store defaults as version 0', async () => {
    const response = await api(ctx.baseUrl, 'GET', '/api/staff/ivr/config', { token: adminToken });
    expect(response.status).to.equal(200);
    expect(response.body.version).to.equal(0);
    expect(response.body.config).to.deep.equal(JSON.parse(JSON.stringify(DEFAULT_IVR_CONFIG)));
    expect((await api(ctx.baseUrl, 'GET', '/api/staff/ivr/config', { token: csrToken })).status).to.equal(403);
  });

  it('rejects an invalid configuration, naming each problem', async () => {
    const config = clone(DEFAULT_IVR_CONFIG);
    config.mainMenu.options = config.mainMenu.options.filter((o) => o.action !== 'representative');
    config.mainMenu.options[1]!.key = '1';
    config.hours.timeZone = 'Mars/Olympus_Mons';
    config.hours.weekly[0]!.close = '07:00';
    config.prompts.queuePosition.es = 'Usted está en la fila.';
    config.prompts.greeting.en = 'Welcome to {shop}.';
    const response = await api(ctx.baseUrl, 'PUT', '/api/staff/ivr/config', { token: adminToken, body: { baseVersion: 0, config } });
    expect(response.status).to.equal(400);
    expect(response.body.error.code).to.equal('ivr.config_invalid');
    const paths = (response.body.error.fields as { path: string; message: string }[]).map((f) => f.path);
    expect(paths).to.include.members(['config.mainMenu.options', 'config.mainMenu.options.1.key', 'config.hours.timeZone', 'config.hours.weekly.0.close', 'config.prompts.queuePosition.es', 'config.prompts.greeting.en']);
  });

  it('saves a new version on top of the current one, refuses a stale base, and the IVR uses it', async () => {
    const config = clone(DEFAULT_IVR_CONFIG);
    config.prompts.greeting.en = 'Thank you for calling the Mintdesk coin line.';
    config.mainMenu.options.splice(4, 0, {
      key: '5',
      action: 'message',
      label: { en: 'To hear about coin grading', es: 'Para información sobre la clasificación de monedas' },
      speech: { en: ['grading'], es: ['clasificacion'] },
      message: { en: 'We do not grade coins; we recommend an independent grading service.', es: 'No clasificamos monedas; recomendamos un servicio independiente.' },
    });
    const saved = await api(ctx.baseUrl, 'PUT', '/api/staff/ivr/config', { token: adminToken, body: { baseVersion: 0, note: 'grading message', config } });
    expect(saved.status, JSON.stringify(saved.body)).to.equal(201);
    expect(saved.body).to.deep.equal({ version: 1 });
    const stale = await api(ctx.baseUrl, 'PUT', '/api/staff/ivr/config', { token: adminToken, body: { baseVersion: 0, config } });
    expect(stale.status).to.equal(409);
    expect(stale.body.error.code).to.equal('ivr.config_changed');

    const versions = await api(ctx.baseUrl, 'GET', '/api/staff/ivr/config/versions', { token: adminToken });
    expect(versions.body.items.map((v: { version: number; note: string }) => [v.version, v.note])).to.deep.equal([[1, 'grading message']]);
    expect((await api(ctx.baseUrl, 'GET', '/api/staff/ivr/config/versions/0', { token: adminToken })).body.config.prompts.greeting.en).to.equal(DEFAULT_IVR_CONFIG.prompts.greeting.en);
    expect((await api(ctx.baseUrl, 'GET', '/api/staff/ivr/config/versions/7', { token: adminToken })).status).to.equal(404);
    const audit = await ctx.services.audit.query({ action: 'ivr.config_update', page: 1, pageSize: 5 });
    expect(audit.entries[0]?.resource).to.deep.include({ type: 'ivr_config', id: '1' });

    const { call } = await placeCall(ctx);
    expect(call.lastPrompt()).to.contain('Thank you for calling the Mintdesk coin line.');
    await call.press('1');
    await call.timeout();
    expect(call.lastPrompt()).to.contain('To hear about coin grading, press 5, or say grading.');
    await call.say('grading');
    expect(call.lastPrompt()).to.contain('We do not grade coins');
    await call.press('1');
    expect(call.lastPrompt()).to.contain('We do not grade coins');
    await call.hangup();
    expectHealthy(call);
  });
});
