import { z } from 'zod';
import { freeText } from '../http/free-text.ts';

/**
 * The IVR's editable data (menus, prompts, hours, holidays) and the shapes of its staff API.
 * No Node imports: the console edits the same config with the same validation.
 *
 * What stays in code and is not configurable: the order of the flow (language, recording notice,
 * main menu), the order-status rules (check digit, billing ZIP before anything is said) and the
 * keys of the short follow-up menus. Their prompts must name those keys through placeholders
 * (`{repKey}`…), so an edited text can never announce a key the IVR does not listen for.
 */

export const IVR_LANGUAGES = ['en', 'es'] as const;
export type IvrLanguage = (typeof IVR_LANGUAGES)[number];

/** Keys of the short follow-up menus (fixed in code; prompts name them through placeholders). */
export const FOLLOW_UP_KEYS = { repeat: '1', menu: '*', rep: '0', callback: '1', useCallerId: '1', enterNumber: '2', morning: '1', afternoon: '2', evening: '3' } as const;

const noControlChars = /^[^\p{Cc}\p{Cf}]*$/u;
const spoken = (max: number) => freeText(max, { min: 1 }).regex(noControlChars, 'Control characters are not allowed.');

export const LocalizedText = z.strictObject({ en: spoken(1000), es: spoken(1000) });
export type LocalizedText = z.infer<typeof LocalizedText>;

/** A phrase the speech recogniser may return for an option: lower-case words, no punctuation needed. */
const phrase = spoken(60);
const phrases = z.array(phrase).max(20);

export const MENU_ACTIONS = ['order_status', 'new_releases', 'hours_address', 'tty', 'representative', 'message'] as const;
export type MenuAction = (typeof MENU_ACTIONS)[number];

export const MenuOption = z.strictObject({
  key: z.string().regex(/^[0-9]$/, 'Use a single digit 0-9.'),
  action: z.enum(MENU_ACTIONS),
  /** Spoken before the key: "For the status of an order, press 1". */
  label: LocalizedText,
  /** What a caller may say instead of pressing the key; the first phrase is offered in the prompt. */
  speech: z.strictObject({ en: phrases, es: phrases }),
  /** For `message` options: what is read to the caller. */
  message: LocalizedText.optional(),
});
export type MenuOption = z.infer<typeof MenuOption>;

const hhmm = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'Use 24-hour HH:MM, e.g. "08:30" (24:00 for midnight at the end of a day).');
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
const isoDate = z.string().regex(/^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/, 'Use YYYY-MM-DD.');

/** True for an IANA zone the runtime's Intl knows (the same zone database the hours are computed with). */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const OpeningRange = z.strictObject({ open: hhmm, close: hhmm });
export type OpeningRange = z.infer<typeof OpeningRange>;

export const Hours = z.strictObject({
  /** IANA zone, e.g. America/New_York: hours and holidays are local to the store, DST included. */
  timeZone: z.string().refine(isValidTimeZone, 'Use an IANA time zone such as America/New_York.'),
  weekly: z.array(z.strictObject({ days: z.array(z.enum(WEEKDAYS)).min(1).max(7), ...OpeningRange.shape })).max(21),
  /** Closed all day unless `hours` gives special opening hours for that date. */
  holidays: z.array(z.strictObject({ date: isoDate, name: spoken(80), hours: z.array(OpeningRange).max(3).optional() })).max(100),
});
export type Hours = z.infer<typeof Hours>;

/**
 * Placeholders any prompt may use, filled from the deployment rather than the call: `{store}` is
 * STORE_NAME (the name on the site and in emails), `{storeNumber}` the number callers dial, read
 * digit by digit.
 */
export const STORE_PLACEHOLDERS = ['store', 'storeNumber'] as const;

/**
 * Every prompt, per language, with the placeholders it may use (and must use: a key placeholder
 * left out would leave callers guessing). `{name}` is replaced at run time.
 */
export const PROMPT_PLACEHOLDERS = {
  greeting: { allowed: [], required: [] },
  chooseLanguage: { allowed: ['key'], required: ['key'] },
  recordingNotice: { allowed: [], required: [] },
  declineRecording: { allowed: ['key'], required: ['key'] },
  recordingDeclined: { allowed: [], required: [] },
  mainMenuIntro: { allowed: [], required: [] },
  menuOption: { allowed: ['label', 'key', 'phrase'], required: ['label', 'key'] },
  notUnderstood: { allowed: [], required: [] },
  noInput: { allowed: [], required: [] },
  anythingElse: { allowed: ['repeatKey', 'menuKey', 'repKey'], required: ['repeatKey', 'menuKey', 'repKey'] },
  orderNumber: { allowed: [], required: [] },
  orderNumberInvalid: { allowed: [], required: [] },
  billingZip: { allowed: [], required: [] },
  orderNotVerified: { allowed: [], required: [] },
  tooManyAttempts: { allowed: [], required: [] },
  newReleasesIntro: { allowed: [], required: [] },
  noNewReleases: { allowed: [], required: [] },
  productInfo: { allowed: [], required: [] },
  hoursAndAddress: { allowed: ['hours'], required: ['hours'] },
  ttyInfo: { allowed: [], required: [] },
  queueEntering: { allowed: [], required: [] },
  queuePosition: { allowed: ['position'], required: ['position'] },
  queueEstimate: { allowed: ['minutes'], required: ['minutes'] },
  queueEstimateOneMinute: { allowed: [], required: [] },
  queueCallbackOffer: { allowed: ['key'], required: ['key'] },
  connecting: { allowed: [], required: [] },
  repUnavailable: { allowed: [], required: [] },
  afterHours: { allowed: ['hours'], required: ['hours'] },
  callbackOffer: { allowed: ['callbackKey', 'menuKey'], required: ['callbackKey', 'menuKey'] },
  callbackUseCallerId: { allowed: ['last4', 'useKey', 'otherKey'], required: ['useKey', 'otherKey'] },
  callbackEnterNumber: { allowed: [], required: [] },
  callbackNumberInvalid: { allowed: [], required: [] },
  callbackBestTime: { allowed: ['morningKey', 'afternoonKey', 'eveningKey'], required: ['morningKey', 'afternoonKey', 'eveningKey'] },
  callbackConfirmed: { allowed: ['when'], required: [] },
  goodbye: { allowed: [], required: [] },
  apology: { allowed: [], required: [] },
  apologyRep: { allowed: [], required: [] },
} as const satisfies Record<string, { allowed: readonly string[]; required: readonly string[] }>;
export type PromptKey = keyof typeof PROMPT_PLACEHOLDERS;
export const PROMPT_KEYS = Object.keys(PROMPT_PLACEHOLDERS) as PromptKey[];

export const Prompts = z.strictObject(Object.fromEntries(PROMPT_KEYS.map((key) => [key, LocalizedText])) as Record<PromptKey, typeof LocalizedText>);
export type Prompts = z.infer<typeof Prompts>;

const httpUrl = z.url({ protocol: /^https?$/, message: 'Use an http(s) URL.' }).max(2000);

export const IvrConfig = z
  .strictObject({
    /** Spoken in the caller's language; Twilio voice names (Polly.*, Google.*) or empty for the default voice. */
    voices: z.strictObject({
      en: z.strictObject({ language: z.enum(['en-US', 'en-GB', 'en-CA']), voice: z.string().max(60).regex(/^[A-Za-z0-9._-]*$/) }),
      es: z.strictObject({ language: z.enum(['es-US', 'es-MX', 'es-ES']), voice: z.string().max(60).regex(/^[A-Za-z0-9._-]*$/) }),
    }),
    languageMenu: z.strictObject({
      en: z.strictObject({ key: z.string().regex(/^[0-9]$/), speech: phrases.min(1) }),
      es: z.strictObject({ key: z.string().regex(/^[0-9]$/), speech: phrases.min(1) }),
    }),
    recording: z.strictObject({
      /** Pressed (or said) right after the notice: the rep leg is then not recorded. */
      declineKey: z.string().regex(/^[0-9]$/),
      declineSpeech: z.strictObject({ en: phrases.min(1), es: phrases.min(1) }),
    }),
    mainMenu: z.strictObject({ options: z.array(MenuOption).min(1).max(10) }),
    input: z.strictObject({
      /** Seconds a Gather waits for the first key. */
      timeoutSeconds: z.number().int().min(2).max(30),
      /** Relay and TTY users type through an operator: their menus wait this long instead. */
      ttyTimeoutSeconds: z.number().int().min(10).max(120),
      /** How long the decline-recording offer listens before the menu starts. */
      noticeTimeoutSeconds: z.number().int().min(1).max(15),
      /** Wrong or missing entries in one step before the caller is put through to a rep. */
      maxAttempts: z.number().int().min(1).max(5),
    }),
    queue: z.strictObject({
      /** Twilio queue name. */
      name: z.string().min(1).max(64).regex(/^[A-Za-z0-9 _-]+$/),
      holdMusicUrl: httpUrl,
      /** Estimate per caller ahead when the queue gives no better figure. */
      secondsPerCallerAhead: z.number().int().min(10).max(3600),
      /** Seconds a rep's phone rings before the caller goes back to the queue. */
      repRingSeconds: z.number().int().min(5).max(120),
    }),
    hours: Hours,
    prompts: Prompts,
  })
  .superRefine((config, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });

    // Main menu: unique keys, one way to each action, and always a way to a person.
    const keys = new Map<string, number>();
    config.mainMenu.options.forEach((option, i) => {
      if (keys.has(option.key)) issue(['mainMenu', 'options', i, 'key'], `Key ${option.key} is already used by option ${keys.get(option.key)}.`);
      keys.set(option.key, i);
      if (option.action === 'message' && !option.message) issue(['mainMenu', 'options', i, 'message'], 'A message option needs the message to read.');
      if (option.action !== 'message' && option.message) issue(['mainMenu', 'options', i, 'message'], 'Only message options have a message.');
    });
    for (const action of MENU_ACTIONS) {
      const count = config.mainMenu.options.filter((o) => o.action === action).length;
      if (action === 'representative' && count !== 1) issue(['mainMenu', 'options'], 'The main menu needs exactly one representative option: callers must always be able to reach a person.');
      else if (action !== 'message' && count > 1) issue(['mainMenu', 'options'], `Only one option may lead to ${action}.`);
    }
    for (const language of IVR_LANGUAGES) {
      const seen = new Map<string, number>();
      config.mainMenu.options.forEach((option, i) => {
        for (const said of option.speech[language]) {
          const normal = normalizeSpeech(said);
          if (seen.has(normal) && seen.get(normal) !== i) issue(['mainMenu', 'options', i, 'speech', language], `"${said}" is also a phrase of option ${seen.get(normal)}.`);
          seen.set(normal, i);
        }
      });
    }

    if (config.languageMenu.en.key === config.languageMenu.es.key) issue(['languageMenu', 'es', 'key'], 'English and Spanish need different keys.');
    // The decline offer listens right before the main menu and passes menu keys through, so it cannot share one.
    if (keys.has(config.recording.declineKey)) issue(['recording', 'declineKey'], `Key ${config.recording.declineKey} is a main menu key.`);

    // Hours: valid ranges that do not overlap on a day; holidays once per date.
    const byDay = new Map<Weekday, { open: number; close: number; index: number }[]>();
    config.hours.weekly.forEach((entry, i) => {
      const open = minutesOf(entry.open);
      const close = minutesOf(entry.close);
      if (open >= close) issue(['hours', 'weekly', i, 'close'], 'Closing time must be after opening time.');
      for (const day of entry.days) {
        const ranges = byDay.get(day) ?? [];
        const clash = ranges.find((r) => open < r.close && r.open < close);
        if (clash) issue(['hours', 'weekly', i, 'days'], `${day} overlaps hours entry ${clash.index}.`);
        ranges.push({ open, close, index: i });
        byDay.set(day, ranges);
      }
    });
    const dates = new Set<string>();
    config.hours.holidays.forEach((holiday, i) => {
      if (dates.has(holiday.date)) issue(['hours', 'holidays', i, 'date'], `${holiday.date} is listed twice.`);
      dates.add(holiday.date);
      if (!isRealDate(holiday.date)) issue(['hours', 'holidays', i, 'date'], `${holiday.date} is not a calendar date.`);
      holiday.hours?.forEach((range, j) => {
        if (minutesOf(range.open) >= minutesOf(range.close)) issue(['hours', 'holidays', i, 'hours', j, 'close'], 'Closing time must be after opening time.');
      });
    });

    // Prompts: only known placeholders, and every required one.
    for (const key of PROMPT_KEYS) {
      const { required } = PROMPT_PLACEHOLDERS[key];
      const allowed = [...PROMPT_PLACEHOLDERS[key].allowed, ...STORE_PLACEHOLDERS];
      for (const language of IVR_LANGUAGES) {
        const text = config.prompts[key][language];
        const used = [...text.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? '');
        for (const name of used) {
          if (!(allowed as readonly string[]).includes(name)) {
            issue(['prompts', key, language], `Unknown placeholder {${name}}; this prompt may use ${allowed.map((a) => `{${a}}`).join(', ')}.`);
          }
        }
        for (const name of required) if (!used.includes(name)) issue(['prompts', key, language], `Must contain {${name}}.`);
      }
    }
  });
export type IvrConfig = z.infer<typeof IvrConfig>;

/**
 * What speech matching compares: lower case, accents and punctuation dropped ("Envío." and "envio"
 * are the same phrase), so configured phrases need not guess the recogniser's spelling.
 */
export function normalizeSpeech(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\p{L}\p{N}\s']/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function minutesOf(hhmmText: string): number {
  const [h, m] = hhmmText.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

function isRealDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number);
  const probe = new Date(Date.UTC(y!, m! - 1, d!));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === m! - 1 && probe.getUTCDate() === d;
}

// --- staff API ------------------------------------------------------------------------------------

export const SaveIvrConfigInput = z.strictObject({
  /** The version the edit started from: a save over someone else's newer version is a conflict. */
  baseVersion: z.number().int().min(0),
  note: freeText(500).regex(noControlChars).optional(),
  config: z.unknown(),
});

export const callSidSchema = z.string().regex(/^CA[0-9a-f]{32}$/, 'Not a call SID.');
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'Use an E.164 number such as +12025550100.');

export const AcceptCallInput = z.strictObject({
  /**
   * Where the rep takes the call: a desk or mobile number, or (default) the rep's browser client
   * (`staff-<id>`, the console's Twilio Voice SDK identity). In simulator mode the simulator answers.
   */
  phone: e164.optional(),
});

export const CALLBACK_STATUSES = ['open', 'claimed', 'completed'] as const;
export const CALLBACK_RESULTS = ['reached', 'no_answer', 'left_voicemail', 'wrong_number', 'cancelled'] as const;

export const CallbackListQuery = z.strictObject({
  status: z.enum(CALLBACK_STATUSES).default('open'),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(25),
});

export const CompleteCallbackInput = z.strictObject({
  result: z.enum(CALLBACK_RESULTS),
  note: freeText(1000).regex(noControlChars).optional(),
});

export const ReportQuery = z
  .strictObject({ from: isoDate, to: isoDate })
  .superRefine((q, ctx) => {
    if (q.from > q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: '"to" must not be before "from".' });
    else if ((Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 > 92) ctx.addIssue({ code: 'custom', path: ['to'], message: 'At most 93 days per report.' });
  });

export const CALL_OUTCOMES = ['in_progress', 'self_served', 'queued', 'connected', 'abandoned', 'callback'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** A caller waiting for a rep, as the console and the staff API show it. */
export interface WaitingCallView {
  callSid: string;
  position: number;
  queue: string;
  callerId: string;
  customer: { id: string; name: string } | null;
  /** How many active customers share the caller's number (0: unknown caller; >1: no single match). */
  customerMatches: number;
  language: IvrLanguage;
  tty: boolean;
  recordingDeclined: boolean;
  /** What the caller already told the IVR, so the rep does not ask again. Only verified facts. */
  entered: Record<string, string>;
  enqueuedAt: string;
  waitingSeconds: number;
  acceptedBy: string | null;
}

export interface CallbackView {
  id: string;
  callSid: string;
  phone: string;
  phoneSource: 'caller_id' | 'entered';
  bestTime: string;
  language: IvrLanguage;
  customerId: string | null;
  status: (typeof CALLBACK_STATUSES)[number];
  requestedAt: string;
  claimedBy: string | null;
  completedBy: string | null;
  result: (typeof CALLBACK_RESULTS)[number] | null;
}

export interface DayReport {
  date: string;
  calls: number;
  /** Calls started in each local hour, 0-23. */
  callsPerHour: number[];
  ended: number;
  selfServed: number;
  /** Share of ended calls resolved in the IVR without a rep (self-served), 0-1; null with no ended calls. */
  containmentRate: number | null;
  queued: number;
  abandonedInQueue: number;
  /** Share of queued calls that hung up before reaching a rep; null with none queued. */
  abandonmentRate: number | null;
  connected: number;
  callbacks: number;
  /** Mean seconds in the queue of calls that left it (connected or abandoned); null with none. */
  averageWaitSeconds: number | null;
}

/** What anyone may know about the phone line (GET /api/phone-line): the simulator page shows it. */
export const PhoneLineStatus = z.strictObject({
  storeName: z.string(),
  /** The number callers dial, E.164. */
  storeNumber: z.string(),
  /** The representatives' hours as one sentence, e.g. "Monday through Friday, 8:30 AM to 8 PM, …, Eastern Time". */
  hours: z.string(),
  timeZone: z.string(),
  /** Whether a call can reach a representative now; outside the hours callers are offered a callback. */
  openNow: z.boolean(),
  /** Today's holiday in the store's time zone, if today is one. */
  holidayToday: z.string().nullable(),
  /** When representatives are next available (now, if open); null when closed for the next 30 days. */
  nextOpening: z.strictObject({ date: z.string(), weekday: z.string(), time: z.string(), daysAhead: z.number().int().min(0) }).nullable(),
});
export type PhoneLineStatus = z.infer<typeof PhoneLineStatus>;
