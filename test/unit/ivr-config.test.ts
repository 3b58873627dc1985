import { expect } from 'chai';
import { DEFAULT_IVR_CONFIG } from '../../api/ivr/defaults.ts';
import { IvrConfig, type IvrConfig as IvrConfigType } from '../../api/ivr/schema.ts';

/** Validation of the IVR's editable data: menus, hours, holidays and prompts. */

const edit = (change: (config: IvrConfigType) => void): IvrConfigType => {
  const config = structuredClone(DEFAULT_IVR_CONFIG);
  change(config);
  return config;
};

function problems(config: unknown): string[] {
  const parsed = IvrConfig.safeParse(config);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('IVR config schema', () => {
  it('accepts the shipped defaults', () => {
    expect(problems(DEFAULT_IVR_CONFIG)).to.deep.equal([]);
  });

  it('lists the shipped holidays on the weekdays the rules give', () => {
    const weekday = (date: string) => new Date(`${date}T12:00:00Z`).getUTCDay();
    for (const { date, name } of DEFAULT_IVR_CONFIG.hours.holidays) {
      if (/Martin Luther King|Washington|Memorial|Labor|Columbus/.test(name)) expect(weekday(date), `${name} ${date}`).to.equal(1);
      if (/Thanksgiving/.test(name)) expect(weekday(date), `${name} ${date}`).to.equal(4);
      // Observed dates never fall on a weekend.
      expect([0, 6], `${name} ${date}`).not.to.include(weekday(date));
    }
  });

  describe('menus', () => {
    it('requires exactly one way to a representative', () => {
      expect(problems(edit((c) => (c.mainMenu.options = c.mainMenu.options.filter((o) => o.action !== 'representative'))))).to.include('mainMenu.options: The main menu needs exactly one representative option: callers must always be able to reach a person.');
      expect(problems(edit((c) => c.mainMenu.options.push({ ...c.mainMenu.options.find((o) => o.action === 'representative')!, key: '7', speech: { en: [], es: [] } })))).to.have.length(1);
    });

    it('refuses duplicate keys, a second order-status option, and phrases shared between options', () => {
      expect(problems(edit((c) => (c.mainMenu.options[1]!.key = '1')))).to.include('mainMenu.options.1.key: Key 1 is already used by option 0.');
      expect(problems(edit((c) => c.mainMenu.options.push({ ...c.mainMenu.options[0]!, key: '6', speech: { en: [], es: [] } })))).to.include('mainMenu.options: Only one option may lead to order_status.');
      expect(problems(edit((c) => c.mainMenu.options[1]!.speech.es.push('Envío')))).to.include('mainMenu.options.1.speech.es: "Envío" is also a phrase of option 0.');
    });

    it('needs a message for message options only', () => {
      const option = { key: '6', action: 'message' as const, label: { en: 'For gifts', es: 'Para regalos' }, speech: { en: ['gifts'], es: ['regalos'] } };
      expect(problems(edit((c) => c.mainMenu.options.push(option)))).to.include('mainMenu.options.5.message: A message option needs the message to read.');
      expect(problems(edit((c) => c.mainMenu.options.push({ ...option, message: { en: 'Gift boxes are free.', es: 'Las cajas de regalo son gratis.' } })))).to.deep.equal([]);
      expect(problems(edit((c) => (c.mainMenu.options[0]!.message = { en: 'x', es: 'y' })))).to.include('mainMenu.options.0.message: Only message options have a message.');
    });

    it('keeps the decline-recording key off the main menu and the two language keys apart', () => {
      expect(problems(edit((c) => (c.recording.declineKey = '3')))).to.include('recording.declineKey: Key 3 is a main menu key.');
      expect(problems(edit((c) => (c.languageMenu.es.key = '1')))).to.include('languageMenu.es.key: English and Spanish need different keys.');
      expect(problems(edit((c) => (c.mainMenu.options[0]!.key = '#')))).to.have.length(1);
    });
  });

  describe('hours and holidays', () => {
    it('needs an IANA time zone', () => {
      expect(problems(edit((c) => (c.hours.timeZone = 'Eastern')))).to.include('hours.timeZone: Use an IANA time zone such as America/New_York.');
      expect(problems(edit((c) => (c.hours.timeZone = 'Europe/Madrid')))).to.deep.equal([]);
    });

    it('refuses closing before opening, overlapping ranges and malformed times', () => {
      expect(problems(edit((c) => (c.hours.weekly[1]!.close = '08:00')))).to.include('hours.weekly.1.close: Closing time must be after opening time.');
      expect(problems(edit((c) => c.hours.weekly.push({ days: ['fri'], open: '19:00', close: '22:00' })))).to.include('hours.weekly.2.days: fri overlaps hours entry 0.');
      expect(problems(edit((c) => c.hours.weekly.push({ days: ['fri'], open: '20:00', close: '24:00' })))).to.deep.equal([]);
      expect(problems(edit((c) => (c.hours.weekly[0]!.open = '8:30')))).to.have.length(1);
    });

    it('refuses a date that is not in the calendar, and a date listed twice', () => {
      expect(problems(edit((c) => c.hours.holidays.push({ date: '2027-02-30', name: 'Nope' })))).to.include('hours.holidays.22.date: 2027-02-30 is not a calendar date.');
      expect(problems(edit((c) => c.hours.holidays.push({ date: '2026-12-25', name: 'Again' })))).to.include('hours.holidays.22.date: 2026-12-25 is listed twice.');
      expect(problems(edit((c) => c.hours.holidays.push({ date: '2026-12-24', name: 'Christmas Eve', hours: [{ open: '09:00', close: '13:00' }] })))).to.deep.equal([]);
    });
  });

  describe('prompts', () => {
    it('allows only the placeholders a prompt knows, and requires the ones that name keys', () => {
      expect(problems(edit((c) => (c.prompts.greeting.en = 'Welcome to {shop}.')))).to.include('prompts.greeting.en: Unknown placeholder {shop}; this prompt may use {store}, {storeNumber}.');
      expect(problems(edit((c) => (c.prompts.greeting.en = 'Welcome to {store}, at {storeNumber}.'))), 'the store placeholders fit every prompt').to.deep.equal([]);
      expect(problems(edit((c) => (c.prompts.anythingElse.es = 'Oprima 1 para repetir.')))).to.include.members(['prompts.anythingElse.es: Must contain {repeatKey}.', 'prompts.anythingElse.es: Must contain {menuKey}.', 'prompts.anythingElse.es: Must contain {repKey}.']);
      expect(problems(edit((c) => (c.prompts.queuePosition.en = 'You are caller {position} of {size}.')))).to.include('prompts.queuePosition.en: Unknown placeholder {size}; this prompt may use {position}, {store}, {storeNumber}.');
    });

    it('needs both languages and no control characters', () => {
      expect(problems(edit((c) => ((c.prompts.goodbye as { es?: string }).es = undefined)))).to.have.length(1);
      expect(problems(edit((c) => (c.prompts.goodbye.en = 'Bye\u0007')))).to.have.length(1);
    });
  });
});
