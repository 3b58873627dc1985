import { minutesOf, WEEKDAYS, type Hours, type OpeningRange, type Weekday } from './schema.ts';

/**
 * Business hours in the store's time zone. Wall-clock time comes from Intl with the configured
 * IANA zone, so daylight-saving changes are the zone database's business, not ours: we only ever
 * compare local dates and local minutes, never add hours to instants.
 */

export interface LocalTime {
  /** YYYY-MM-DD in the store's zone. */
  date: string;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minutes: number;
  hour: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

const WEEKDAY_BY_SHORT: Record<string, Weekday> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };

export function localTime(instant: Date, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) parts[part.type] = part.value;
  const hour = Number(parts.hour);
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: WEEKDAY_BY_SHORT[parts.weekday ?? ''] ?? 'mon',
    minutes: hour * 60 + Number(parts.minute),
    hour,
  };
}

/** The opening ranges of one local date: a holiday's (none unless special hours), else the weekly ones. */
export function rangesOn(hours: Hours, date: string, weekday: Weekday): OpeningRange[] {
  const holiday = hours.holidays.find((h) => h.date === date);
  const ranges = holiday ? (holiday.hours ?? []) : hours.weekly.filter((w) => w.days.includes(weekday)).map(({ open, close }) => ({ open, close }));
  return [...ranges].sort((a, b) => minutesOf(a.open) - minutesOf(b.open));
}

export function isOpen(hours: Hours, now: Date): boolean {
  const local = localTime(now, hours.timeZone);
  return rangesOn(hours, local.date, local.weekday).some((r) => local.minutes >= minutesOf(r.open) && local.minutes < minutesOf(r.close));
}

export interface NextOpening {
  date: string;
  weekday: Weekday;
  open: string;
  /** 0 today, 1 tomorrow... */
  daysAhead: number;
  /** Representatives are available right now. */
  openNow: boolean;
}

/** When representatives are next available (now, if open); undefined if closed for the next 30 days. */
export function nextOpening(hours: Hours, now: Date): NextOpening | undefined {
  const local = localTime(now, hours.timeZone);
  for (let daysAhead = 0; daysAhead <= 30; daysAhead += 1) {
    const { date, weekday } = addDays(local.date, daysAhead);
    for (const range of rangesOn(hours, date, weekday)) {
      if (daysAhead > 0 || local.minutes < minutesOf(range.close)) {
        const openNow = daysAhead === 0 && local.minutes >= minutesOf(range.open);
        return { date, weekday, open: openNow ? minutesToHhmm(local.minutes) : range.open, daysAhead, openNow };
      }
    }
  }
  return undefined;
}

/** Calendar arithmetic on a local date: no instants, so no DST. */
export function addDays(date: string, days: number): { date: string; weekday: Weekday } {
  const [y, m, d] = date.split('-').map(Number);
  const shifted = new Date(Date.UTC(y!, m! - 1, d! + days));
  // getUTCDay: 0 = Sunday.
  const weekday = WEEKDAYS[(shifted.getUTCDay() + 6) % 7]!;
  return { date: shifted.toISOString().slice(0, 10), weekday };
}

function minutesToHhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
