import { formatOrderNumberForSpeech } from '../api/orders/order-number.ts';
import type { OrderStatus } from '../api/orders/status.ts';
import { WEEKDAYS, type Hours, type IvrConfig, type IvrLanguage, type PromptKey, type Weekday } from '../api/ivr/schema.ts';
import type { NextOpening } from '../api/ivr/hours.ts';

/**
 * What the IVR says, as natural sentences in English and Spanish: configured prompts with their
 * placeholders filled, order status, hours, money and dates. Pure functions of their inputs.
 */

const LOCALE: Record<IvrLanguage, string> = { en: 'en-US', es: 'es-US' };

export function fill(template: string, vars: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{([^{}]*)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export function promptText(config: IvrConfig, key: PromptKey, lang: IvrLanguage, vars: Readonly<Record<string, string | number>> = {}): string {
  return fill(config.prompts[key][lang], vars);
}

/** A key as a caller hears it named: "star", "pound" / "asterisco", "numeral"; digits as they are. */
export function keyName(key: string, lang: IvrLanguage): string {
  if (key === '*') return lang === 'en' ? 'star' : 'asterisco';
  if (key === '#') return lang === 'en' ? 'pound' : 'numeral';
  return key;
}

/** Digits read one by one ("0 1 0 0"), so TTS does not say "one hundred". */
export function spellDigits(digits: string): string {
  return digits.split('').join(' ');
}

export function orderNumberSpeech(orderNumber: string): string {
  return formatOrderNumberForSpeech(orderNumber);
}

// --- dates and times ---------------------------------------------------------------------------

const dateFormatters = new Map<string, Intl.DateTimeFormat>();
function dateFormatter(lang: IvrLanguage, timeZone: string): Intl.DateTimeFormat {
  const key = `${lang}|${timeZone}`;
  let formatter = dateFormatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(LOCALE[lang], { timeZone, weekday: 'long', month: 'long', day: 'numeric' });
    dateFormatters.set(key, formatter);
  }
  return formatter;
}

/** "Thursday, March 5" / "jueves, 5 de marzo", in the store's zone. */
export function dateSpeech(instant: Date, lang: IvrLanguage, timeZone: string): string {
  return dateFormatter(lang, timeZone).format(instant);
}

/** "8:30 AM", "8 PM" / "8:30 a.m.", "8 p.m."; 24:00 is midnight. */
export function timeSpeech(hhmm: string, lang: IvrLanguage): string {
  const [h, m] = hhmm.split(':').map(Number);
  if (h === 24) return lang === 'en' ? 'midnight' : 'medianoche';
  const sample = new Date(Date.UTC(2000, 0, 1, h ?? 0, m ?? 0));
  // ICU puts a narrow no-break space before AM/PM; some TTS engines read it oddly, so plain spaces.
  return new Intl.DateTimeFormat(LOCALE[lang], { timeZone: 'UTC', hour: 'numeric', ...(m ? { minute: '2-digit' } : {}) }).format(sample).replace(/[\u202f\u00a0]/g, ' ');
}

export function weekdayName(day: Weekday, lang: IvrLanguage): string {
  // 2024-01-01 was a Monday.
  const sample = new Date(Date.UTC(2024, 0, 1 + WEEKDAYS.indexOf(day)));
  return new Intl.DateTimeFormat(LOCALE[lang], { timeZone: 'UTC', weekday: 'long' }).format(sample);
}

function joinList(items: string[], lang: IvrLanguage): string {
  return new Intl.ListFormat(LOCALE[lang], { style: 'long', type: 'conjunction' }).format(items);
}

/** Consecutive weekdays collapse into a span: "Monday through Friday" / "de lunes a viernes". */
function daysSpeech(days: readonly Weekday[], lang: IvrLanguage): string {
  const sorted = WEEKDAYS.filter((d) => days.includes(d));
  const runs: Weekday[][] = [];
  for (const day of sorted) {
    const last = runs.at(-1);
    if (last && WEEKDAYS.indexOf(last.at(-1)!) === WEEKDAYS.indexOf(day) - 1) last.push(day);
    else runs.push([day]);
  }
  const parts = runs.map((run) => {
    if (run.length === 1) return lang === 'en' ? weekdayName(run[0]!, lang) : `el ${weekdayName(run[0]!, lang)}`;
    if (run.length === 2) return joinList(run.map((d) => weekdayName(d, lang)), lang);
    const first = weekdayName(run[0]!, lang);
    const last = weekdayName(run.at(-1)!, lang);
    return lang === 'en' ? `${first} through ${last}` : `de ${first} a ${last}`;
  });
  return joinList(parts, lang);
}

function zoneName(timeZone: string, lang: IvrLanguage): string {
  const parts = new Intl.DateTimeFormat(LOCALE[lang], { timeZone, timeZoneName: 'longGeneric' }).formatToParts(new Date());
  return parts.find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
}

/** The weekly schedule as one phrase: "Monday through Friday, 8:30 AM to 8 PM, and Saturday, 9 AM to 5 PM, Eastern Time". */
export function hoursSpeech(hours: Hours, lang: IvrLanguage): string {
  if (hours.weekly.length === 0) return lang === 'en' ? 'by appointment only' : 'solo con cita previa';
  const entries = hours.weekly.map((entry) => {
    const span = lang === 'en' ? `${timeSpeech(entry.open, lang)} to ${timeSpeech(entry.close, lang)}` : `de ${timeSpeech(entry.open, lang)} a ${timeSpeech(entry.close, lang)}`;
    return `${daysSpeech(entry.days, lang)}, ${span}`;
  });
  const zone = zoneName(hours.timeZone, lang);
  return `${entries.length > 1 ? `${entries.slice(0, -1).join(', ')}, ${lang === 'en' ? 'and' : 'y'} ${entries.at(-1)}` : entries[0]}, ${zone}`;
}

// --- money ---------------------------------------------------------------------------------------

/** "49 dollars and 95 cents" / "49 dólares con 95 centavos": unambiguous for any TTS voice. */
export function moneySpeech(cents: number, lang: IvrLanguage): string {
  const dollars = Math.floor(cents / 100);
  const rest = cents % 100;
  const dollarWord = lang === 'en' ? (dollars === 1 ? 'dollar' : 'dollars') : dollars === 1 ? 'dólar' : 'dólares';
  const centWord = lang === 'en' ? (rest === 1 ? 'cent' : 'cents') : rest === 1 ? 'centavo' : 'centavos';
  const dollarsText = `${dollars.toLocaleString(LOCALE[lang])} ${dollarWord}`;
  if (rest === 0) return dollarsText;
  return lang === 'en' ? `${dollarsText} and ${rest} ${centWord}` : `${dollarsText} con ${rest} ${centWord}`;
}

// --- order status --------------------------------------------------------------------------------

const STATUS_SENTENCES: Record<OrderStatus, Record<IvrLanguage, string>> = {
  pending_fraud_check: { en: 'We have received it and are verifying it.', es: 'Lo hemos recibido y lo estamos verificando.' },
  fraud_review: { en: 'We have received it and it is being reviewed.', es: 'Lo hemos recibido y está en revisión.' },
  payment_pending: { en: 'It is waiting for payment authorization.', es: 'Está esperando la autorización del pago.' },
  paid: { en: 'It is paid and being prepared for shipment.', es: 'Está pagado y se está preparando para el envío.' },
  fulfilled: { en: 'It is packed and ready to ship.', es: 'Está empacado y listo para enviarse.' },
  shipped: { en: 'It has shipped.', es: 'Ya fue enviado.' },
  delivered: { en: 'It has been delivered.', es: 'Ya fue entregado.' },
  cancelled: { en: 'It was cancelled.', es: 'Fue cancelado.' },
  declined: { en: 'It was not completed because the payment was declined.', es: 'No se completó porque el pago fue rechazado.' },
};

const CARRIERS: Record<string, Record<IvrLanguage, string>> = {
  usps: { en: 'the U.S. Postal Service', es: 'el Servicio Postal de los Estados Unidos' },
  ups: { en: 'U P S', es: 'U P S' },
  fedex: { en: 'FedEx', es: 'FedEx' },
  dhl: { en: 'D H L', es: 'D H L' },
};

export function carrierSpeech(carrier: string, lang: IvrLanguage): string {
  return CARRIERS[carrier.trim().toLowerCase().replace(/[\s.]/g, '')]?.[lang] ?? carrier.trim();
}

/** The parts of an order the IVR may read once the caller proved it is theirs. */
export interface OrderForSpeech {
  orderNumber: string;
  status: OrderStatus;
  placedAt: Date;
  lines: { quantity: number }[];
  shipments: { carrier?: string | undefined; shippedAt?: Date | undefined }[];
}

/** The status of a verified order in a few short sentences: number and date, items, status, shipping. */
export function orderStatusSpeech(order: OrderForSpeech, lang: IvrLanguage, timeZone: string): string[] {
  const sentences: string[] = [];
  const number = orderNumberSpeech(order.orderNumber);
  const placed = dateSpeech(order.placedAt, lang, timeZone);
  sentences.push(lang === 'en' ? `I found order ${number}, placed on ${placed}.` : `Encontré el pedido ${number}, realizado el ${placed}.`);
  const items = order.lines.reduce((sum, line) => sum + line.quantity, 0);
  sentences.push(lang === 'en' ? `It has ${items} ${items === 1 ? 'item' : 'items'}.` : `Tiene ${items} ${items === 1 ? 'artículo' : 'artículos'}.`);
  const shipped = order.shipments
    .map((s, index) => ({ ...s, index }))
    .filter((s): s is typeof s & { shippedAt: Date } => s.shippedAt instanceof Date);
  // "It shipped on Tuesday, by UPS" says "shipped" already.
  if (!(order.status === 'shipped' && shipped.length > 0)) sentences.push(STATUS_SENTENCES[order.status][lang]);
  if (shipped.length === 0) return sentences;
  const how = (s: { carrier?: string | undefined; shippedAt: Date }) => {
    const day = dateSpeech(s.shippedAt, lang, timeZone);
    const by = s.carrier ? (lang === 'en' ? `, by ${carrierSpeech(s.carrier, lang)}` : `, por ${carrierSpeech(s.carrier, lang)}`) : '';
    return { day, by };
  };
  if (order.shipments.length === 1) {
    const { day, by } = how(shipped[0]!);
    sentences.push(lang === 'en' ? `It shipped on ${day}${by}.` : `Se envió el ${day}${by}.`);
    return sentences;
  }
  const packages = order.shipments.length;
  sentences.push(lang === 'en' ? `It ships in ${packages} packages.` : `Se envía en ${packages} paquetes.`);
  order.shipments.forEach((shipment, index) => {
    const n = index + 1;
    if (shipment.shippedAt instanceof Date) {
      const { day, by } = how({ carrier: shipment.carrier, shippedAt: shipment.shippedAt });
      sentences.push(lang === 'en' ? `Package ${n} shipped on ${day}${by}.` : `El paquete ${n} se envió el ${day}${by}.`);
    } else {
      sentences.push(lang === 'en' ? `Package ${n} has not shipped yet.` : `El paquete ${n} aún no se ha enviado.`);
    }
  });
  return sentences;
}

// --- callbacks -----------------------------------------------------------------------------------

export const BEST_TIMES = ['morning', 'afternoon', 'evening'] as const;
export type BestTime = (typeof BEST_TIMES)[number];

const BEST_TIME_WORDS: Record<BestTime, Record<IvrLanguage, string>> = {
  morning: { en: 'in the morning', es: 'por la mañana' },
  afternoon: { en: 'in the afternoon', es: 'por la tarde' },
  evening: { en: 'in the evening', es: 'por la noche' },
};

/**
 * "tomorrow, in the morning" / "el lunes, por la tarde" (just the time of day while reps are working);
 * a best time the caller said in their own words is not repeated back.
 */
export function callbackWhenSpeech(next: NextOpening | undefined, bestTime: string, lang: IvrLanguage): string {
  const time = (BEST_TIMES as readonly string[]).includes(bestTime) ? BEST_TIME_WORDS[bestTime as BestTime][lang] : lang === 'en' ? 'at the time you asked for' : 'a la hora que indicó';
  if (!next) return lang === 'en' ? `as soon as we can, ${time}` : `lo antes posible, ${time}`;
  if (next.openNow) return time;
  const day =
    next.daysAhead === 0 ? (lang === 'en' ? 'today' : 'hoy') : next.daysAhead === 1 ? (lang === 'en' ? 'tomorrow' : 'mañana') : lang === 'en' ? `on ${weekdayName(next.weekday, lang)}` : `el ${weekdayName(next.weekday, lang)}`;
  return `${day}, ${time}`;
}
