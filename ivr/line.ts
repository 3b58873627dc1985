import { Router } from 'express';
import type { Clock } from '../platform/clock.ts';
import type { PhoneLineStatus } from '../api/ivr/schema.ts';
import type { IvrService } from '../api/ivr/service.ts';
import { localTime, nextOpening } from '../api/ivr/hours.ts';
import { hoursSpeech } from './speech.ts';

/** The phone line as callers find it now: the store's number, the representatives' hours and whether they answer now. */
export async function phoneLineStatus(ivr: Pick<IvrService, 'activeConfig' | 'store'>, now: Date): Promise<PhoneLineStatus> {
  const { config } = await ivr.activeConfig();
  const { hours } = config;
  const next = nextOpening(hours, now);
  const today = localTime(now, hours.timeZone).date;
  return {
    storeName: ivr.store.name,
    storeNumber: ivr.store.number,
    hours: hoursSpeech(hours, 'en'),
    timeZone: hours.timeZone,
    openNow: next?.openNow ?? false,
    holidayToday: hours.holidays.find((holiday) => holiday.date === today)?.name ?? null,
    nextOpening: next ? { date: next.date, weekday: next.weekday, time: next.open, daysAhead: next.daysAhead } : null,
  };
}

/** GET /api/phone-line: public, like the hours the IVR reads to any caller. */
export function createPhoneLineRouter({ ivr, clock }: { ivr: Pick<IvrService, 'activeConfig' | 'store'>; clock: Clock }): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.json(await phoneLineStatus(ivr, clock()));
  });
  return router;
}
