import { expect } from 'chai';
import { DEFAULT_IVR_CONFIG } from '../../api/ivr/defaults.ts';
import type { Hours } from '../../api/ivr/schema.ts';
import { addDays, isOpen, localTime, nextOpening } from '../../api/ivr/hours.ts';
import { hoursSpeech } from '../../ivr/speech.ts';

/** Business hours in the store's zone, through daylight-saving changes, weekends and holidays. */

const hours: Hours = DEFAULT_IVR_CONFIG.hours; // Mon-Fri 08:30-20:00, Sat 09:00-17:00, New York
const at = (iso: string) => new Date(iso);

describe('IVR business hours', () => {
  it('reads local wall-clock time with the zone database, on both sides of a DST change', () => {
    // 2026-03-08: New York springs forward at 02:00. 13:00Z is 08:00 EST on Friday the 6th, 09:00 EDT on Monday the 9th.
    expect(localTime(at('2026-03-06T13:00:00Z'), 'America/New_York')).to.deep.equal({ date: '2026-03-06', weekday: 'fri', minutes: 8 * 60, hour: 8 });
    expect(localTime(at('2026-03-09T13:00:00Z'), 'America/New_York')).to.deep.equal({ date: '2026-03-09', weekday: 'mon', minutes: 9 * 60, hour: 9 });
    expect(localTime(at('2026-03-08T06:59:00Z'), 'America/New_York').hour).to.equal(1);
    expect(localTime(at('2026-03-08T07:00:00Z'), 'America/New_York').hour).to.equal(3);
    // A zone on the other side of the date line.
    expect(localTime(at('2026-03-08T23:30:00Z'), 'Pacific/Auckland')).to.include({ date: '2026-03-09', weekday: 'mon' });
  });

  it('opens and closes at local times whatever the UTC offset', () => {
    expect(isOpen(hours, at('2026-03-06T13:29:00Z'))).to.equal(false); // 08:29 EST
    expect(isOpen(hours, at('2026-03-06T13:30:00Z'))).to.equal(true); // 08:30 EST
    expect(isOpen(hours, at('2026-03-09T12:30:00Z'))).to.equal(true); // 08:30 EDT
    expect(isOpen(hours, at('2026-03-09T12:29:00Z'))).to.equal(false);
    expect(isOpen(hours, at('2026-11-02T00:59:00Z'))).to.equal(false); // Sunday evening
    expect(isOpen(hours, at('2026-11-02T13:30:00Z'))).to.equal(true); // Monday 08:30 EST, the day after fall back
    expect(isOpen(hours, at('2026-12-05T21:59:00Z'))).to.equal(true); // Saturday 16:59
    expect(isOpen(hours, at('2026-12-05T22:00:00Z'))).to.equal(false); // Saturday 17:00
  });

  it('is closed on holidays, and keeps special holiday hours', () => {
    expect(isOpen(hours, at('2026-11-26T17:00:00Z'))).to.equal(false); // Thanksgiving noon
    const christmasEve = { ...hours, holidays: [...hours.holidays, { date: '2026-12-24', name: 'Christmas Eve', hours: [{ open: '09:00', close: '13:00' }] }] };
    expect(isOpen(christmasEve, at('2026-12-24T17:59:00Z'))).to.equal(true); // 12:59
    expect(isOpen(christmasEve, at('2026-12-24T18:00:00Z'))).to.equal(false); // 13:00
    expect(isOpen(christmasEve, at('2026-12-24T14:00:00Z'))).to.equal(true);
  });

  it('finds the next opening: now, later today, or after the weekend and a holiday', () => {
    expect(nextOpening(hours, at('2026-12-01T19:00:00Z'))).to.deep.equal({ date: '2026-12-01', weekday: 'tue', open: '14:00', daysAhead: 0, openNow: true });
    expect(nextOpening(hours, at('2026-12-01T12:00:00Z'))).to.deep.equal({ date: '2026-12-01', weekday: 'tue', open: '08:30', daysAhead: 0, openNow: false });
    expect(nextOpening(hours, at('2026-12-05T23:00:00Z'))).to.deep.equal({ date: '2026-12-07', weekday: 'mon', open: '08:30', daysAhead: 2, openNow: false });
    // Wednesday evening before Thanksgiving: Thursday is closed, Friday opens.
    expect(nextOpening(hours, at('2026-11-26T02:00:00Z'))).to.deep.include({ date: '2026-11-27', weekday: 'fri', daysAhead: 2 });
    expect(nextOpening({ ...hours, weekly: [] }, at('2026-12-01T19:00:00Z'))).to.equal(undefined);
  });

  it('does calendar arithmetic on local dates', () => {
    expect(addDays('2026-12-31', 1)).to.deep.equal({ date: '2027-01-01', weekday: 'fri' });
    expect(addDays('2028-02-28', 1)).to.deep.equal({ date: '2028-02-29', weekday: 'tue' });
  });

  it('says the schedule in both languages', () => {
    expect(hoursSpeech(hours, 'en')).to.equal('Monday through Friday, 8:30 AM to 8 PM, and Saturday, 9 AM to 5 PM, Eastern Time');
    expect(hoursSpeech(hours, 'es')).to.equal('de lunes a viernes, de 8:30 a.m. a 8 p.m., y el sábado, de 9 a.m. a 5 p.m., hora oriental');
    const split = { ...hours, weekly: [{ days: ['mon', 'wed', 'fri'] as ('mon' | 'wed' | 'fri')[], open: '10:00', close: '24:00' }] };
    expect(hoursSpeech(split, 'en')).to.equal('Monday, Wednesday, and Friday, 10 AM to midnight, Eastern Time');
  });
});
