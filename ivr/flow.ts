import type { Clock } from '../platform/clock.ts';
import { ValidationError } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import type { ProductPublic } from '../api/catalog/schema.ts';
import type { PathStep } from '../api/ivr/model.ts';
import { FOLLOW_UP_KEYS, type IvrConfig, type IvrLanguage, type MenuOption } from '../api/ivr/schema.ts';
import type { IvrService } from '../api/ivr/service.ts';
import type { OrderDoc } from '../api/orders/model.ts';
import { formatOrderNumberForDisplay, isValidOrderNumber } from '../api/orders/order-number.ts';
import { twimlForError, type WebhookContext } from './errors.ts';
import { isOpen, localTime, nextOpening } from '../api/ivr/hours.ts';
import { digitsFrom, FOLLOW_UP_WORDS, inputKind, matchFollowUp, matchMenuOption, matchPhrases, type CallerInput } from './match.ts';
import { callbackWhenSpeech, hoursSpeech, keyName, moneySpeech, orderNumberSpeech, orderStatusSpeech, promptText, spellDigits } from './speech.ts';
import { newCallState, type CallState, type CallStateStore } from './state.ts';
import { EMPTY_TWIML, Twiml } from './twiml-builder.ts';

/**
 * The call flow: one handler per Twilio webhook, each a function of the request, the call's state
 * and the active config, answering TwiML. The order of a call:
 *
 *   /voice          greeting, language menu (keys or speech)
 *   /language       recording notice with the key to decline recording
 *   /notice         main menu (a menu key pressed during the notice counts as the choice)
 *   /menu/choice    order status | new releases | hours and address | TTY | message | rep
 *   /order/number → /order/zip   check digit, then billing ZIP, and only then the status
 *   /followup       repeat, main menu, rep
 *   rep: in hours → queue (/queue/wait, /queue/left; a rep's accept → /queue/connect → /queue/rep-done)
 *        after hours → /afterhours → callback (/callback/number-choice, /callback/number, /callback/time)
 *   /status, /recording/status: Twilio's callbacks; /fallback: Twilio's fallback URL.
 *
 * Wrong or missing input is counted per step; after `maxAttempts` the caller goes to a rep (or, when
 * nobody is working, to the callback offer). Only the self-service follow-up ends a silent call.
 */

export interface IvrFlowDeps {
  ivr: IvrService;
  orders: { findByNumber(orderNumber: string): Promise<OrderDoc | undefined>; get(orderId: string): Promise<OrderDoc> };
  catalog: { list(query?: unknown): Promise<{ items: ProductPublic[] }> };
  states: CallStateStore;
  clock: Clock;
  logger: Logger;
  publicBaseUrl: string;
}

/** Twilio's form parameters of one webhook. */
export type TwilioParams = Readonly<Record<string, string | undefined>>;

/** Filled in as a handler learns it, so an error answer can use the caller's language. */
export interface Scope {
  lang: IvrLanguage | null;
  config: IvrConfig | undefined;
  callSid: string | undefined;
}

export interface FlowStep {
  context: WebhookContext;
  handle(params: TwilioParams, scope: Scope): Promise<string>;
}

interface Session {
  config: IvrConfig;
  state: CallState;
  now: Date;
  lang: IvrLanguage;
  input: CallerInput;
  isNew: boolean;
  twiml: Twiml;
}

type RepReason = 'asked_for_rep' | 'order_verification_failed' | 'menu_not_understood' | 'rep_unavailable' | 'error_recovery';

const CALL_SID = /^CA[0-9a-f]{32}$/;
/** Caller ids Twilio sends for withheld numbers: they cannot be called back. */
const WITHHELD_NUMBERS = new Set(['+266696687', '+7378742833', '+2562533', '+8656696', '+86282452253']);
const MAX_PATH_BUFFER = 40;
/** Twilio's class hint for spoken digit strings: order numbers, ZIP codes and phone numbers come out as digits. */
const DIGITS_HINT = '$OOV_CLASS_DIGIT_SEQUENCE';
const VERIFICATION_FAILURES_PER_HOUR = 10;

export function createIvrFlow(deps: IvrFlowDeps): Record<string, FlowStep> {
  const { ivr, orders, states, clock, logger, publicBaseUrl } = deps;

  // --- session plumbing --------------------------------------------------------------------------

  async function begin(params: TwilioParams, scope: Scope, options: { create?: boolean } = {}): Promise<Session> {
    const callSid = params.CallSid ?? '';
    if (!CALL_SID.test(callSid)) throw new ValidationError('The webhook carries no valid CallSid.', [{ path: 'CallSid', code: 'invalid_string', message: 'Expected a call SID.' }], 'ivr.bad_call_sid');
    scope.callSid = callSid;
    const [{ config }, existing] = await Promise.all([ivr.activeConfig(), states.get(callSid)]);
    scope.config = config;
    const now = clock();
    const state = existing ?? newCallState(callSid, params.From ?? '', now);
    if (!existing && !options.create) logger.warn({ callSid }, 'IVR webhook for a call without state; continuing with a fresh one');
    scope.lang = state.lang;
    return {
      config,
      state,
      now,
      lang: state.lang ?? 'en',
      input: { digits: params.Digits || undefined, speech: params.SpeechResult || undefined },
      isNew: !existing,
      twiml: new Twiml(config, publicBaseUrl),
    };
  }

  async function finish(s: Session): Promise<string> {
    if (s.state.pendingPath.length > MAX_PATH_BUFFER) await ivr.recordProgress(s.state.callSid, takePath(s));
    await states.save(s.state);
    return s.twiml.toString();
  }

  function step(s: Session, node: string, result?: string, ref?: string): void {
    const entry: PathStep = { at: s.now, node, input: inputKind(s.input) };
    if (result) entry.result = result;
    if (ref) entry.ref = ref;
    s.state.pendingPath.push(entry);
  }

  function takePath(s: Session): PathStep[] {
    const path = s.state.pendingPath;
    s.state.pendingPath = [];
    return path;
  }

  const p = (s: Session, key: Parameters<typeof promptText>[1], vars: Record<string, string | number> = {}) => promptText(s.config, key, s.lang, vars);
  const timeoutFor = (s: Session) => (s.state.tty || s.state.misses > 0 ? s.config.input.ttyTimeoutSeconds : s.config.input.timeoutSeconds);
  const missPrompt = (s: Session) => (inputKind(s.input) === 'none' ? p(s, 'noInput') : p(s, 'notUnderstood'));
  /** Facts the caller proved, as the rep and the call record show them. */
  const enteredOf = (state: CallState): Record<string, string> => (state.verifiedOrder ? { verifiedOrderNumber: formatOrderNumberForDisplay(state.verifiedOrder.orderNumber) } : {});

  /** Counts a wrong or missing entry; true once the caller has had enough tries. */
  function miss(s: Session): boolean {
    s.state.misses += 1;
    return s.state.misses >= s.config.input.maxAttempts;
  }

  // --- fragments ---------------------------------------------------------------------------------

  function languageMenu(s: Session, greet: boolean, preface: { en?: string; es?: string } = {}): void {
    const { languageMenu: menu, prompts } = s.config;
    s.twiml.gather('en', { action: '/ivr/language', numDigits: 1, timeout: timeoutFor(s), hints: [...menu.en.speech, ...menu.es.speech] }, (say) => {
      if (preface.en) say('en', preface.en);
      if (preface.es) say('es', preface.es);
      if (greet) {
        say('en', prompts.greeting.en);
        say('es', prompts.greeting.es);
      }
      say('en', promptText(s.config, 'chooseLanguage', 'en', { key: menu.en.key }));
      say('es', promptText(s.config, 'chooseLanguage', 'es', { key: menu.es.key }));
    });
  }

  function recordingNotice(s: Session): void {
    s.state.noticeGiven = true;
    const timeout = s.state.tty ? s.config.input.ttyTimeoutSeconds : s.config.input.noticeTimeoutSeconds;
    s.twiml.gather(s.lang, { action: '/ivr/notice', numDigits: 1, timeout, hints: s.config.recording.declineSpeech[s.lang] }, (say) => {
      say(s.lang, p(s, 'recordingNotice'), p(s, 'declineRecording', { key: s.config.recording.declineKey }));
    });
  }

  function mainMenu(s: Session, preface: string[] = []): void {
    const options = s.config.mainMenu.options;
    s.twiml.gather(s.lang, { action: '/ivr/menu/choice', numDigits: 1, timeout: timeoutFor(s), hints: options.flatMap((o) => o.speech[s.lang].slice(0, 3)) }, (say) => {
      say(s.lang, ...preface, p(s, 'mainMenuIntro'));
      for (const option of options) {
        say(s.lang, p(s, 'menuOption', { label: option.label[s.lang], key: option.key, phrase: option.speech[s.lang][0] ?? '' }));
      }
    });
  }

  function anythingElse(s: Session, preface: string[] = []): void {
    const words = [...FOLLOW_UP_WORDS.repeat[s.lang], ...FOLLOW_UP_WORDS.menu[s.lang], ...FOLLOW_UP_WORDS.rep[s.lang]];
    s.twiml.gather(s.lang, { action: '/ivr/followup', numDigits: 1, timeout: timeoutFor(s), hints: words }, (say) => {
      say(s.lang, ...preface, p(s, 'anythingElse', { repeatKey: FOLLOW_UP_KEYS.repeat, menuKey: keyName(FOLLOW_UP_KEYS.menu, s.lang), repKey: FOLLOW_UP_KEYS.rep }));
    });
  }

  function orderNumberPrompt(s: Session, preface: string[] = []): void {
    s.twiml.gather(s.lang, { action: '/ivr/order/number', numDigits: 8, finishOnKey: '#', timeout: timeoutFor(s), hints: [DIGITS_HINT] }, (say) => say(s.lang, ...preface, p(s, 'orderNumber')));
  }

  function zipPrompt(s: Session, preface: string[] = []): void {
    s.twiml.gather(s.lang, { action: '/ivr/order/zip', numDigits: 5, finishOnKey: '#', timeout: timeoutFor(s), hints: [DIGITS_HINT] }, (say) => say(s.lang, ...preface, p(s, 'billingZip')));
  }

  function goodbye(s: Session, preface: string[] = []): void {
    s.twiml.say(s.lang, ...preface, p(s, 'goodbye')).hangup();
  }

  /** Queue name -> the SID Twilio's wait requests named for it (saves each later caller a record write). */
  const queueSids = new Map<string, string>();

  // --- information -------------------------------------------------------------------------------

  let releasesCache: { at: number; items: ProductPublic[] } | undefined;
  async function newestReleases(): Promise<ProductPublic[]> {
    if (releasesCache && Date.now() - releasesCache.at < 60_000) return releasesCache.items;
    const page = await deps.catalog.list({ sort: 'newest', pageSize: 3 });
    releasesCache = { at: Date.now(), items: page.items };
    return page.items;
  }

  function productSpeech(product: ProductPublic, lang: IvrLanguage): string {
    const availability =
      product.availability === 'sold_out' ? (lang === 'en' ? ', sold out' : ', agotado') : product.availability === 'low' ? (lang === 'en' ? ', limited quantities remain' : ', quedan pocas unidades') : '';
    return `${product.name}, ${moneySpeech(product.priceCents, lang)}${availability}.`;
  }

  /** The sentences of an information item, or undefined when it no longer exists (an option removed from the config). */
  async function infoTexts(s: Session, info: string, known?: OrderDoc): Promise<string[] | undefined> {
    switch (info) {
      case 'new_releases': {
        const items = await newestReleases();
        return items.length ? [p(s, 'newReleasesIntro'), ...items.map((item) => productSpeech(item, s.lang)), p(s, 'productInfo')] : [p(s, 'noNewReleases'), p(s, 'productInfo')];
      }
      case 'hours_address':
        return [p(s, 'hoursAndAddress', { hours: hoursSpeech(s.config.hours, s.lang) })];
      case 'tty':
        return [p(s, 'ttyInfo')];
      case 'order': {
        const verified = s.state.verifiedOrder;
        if (!verified) return undefined;
        const order = known?._id === verified.orderId ? known : await orders.get(verified.orderId);
        return orderStatusSpeech(
          { orderNumber: order.orderNumber, status: order.status, placedAt: new Date(order.placedAt), lines: order.lines, shipments: order.shipments.map((sh) => ({ carrier: sh.carrier, shippedAt: sh.shippedAt ? new Date(sh.shippedAt) : undefined })) },
          s.lang,
          s.config.hours.timeZone,
        );
      }
      default: {
        const key = info.startsWith('message:') ? info.slice('message:'.length) : undefined;
        const option = s.config.mainMenu.options.find((o) => o.action === 'message' && o.key === key);
        return option?.message ? [option.message[s.lang]] : undefined;
      }
    }
  }

  /**
   * Reads an information item and offers what next. The caller is self-served from here on; that
   * is kept in the call's state and written with the call record when the call ends (no database
   * write on the way, so self-service stays fast).
   */
  async function giveInfo(s: Session, info: string, preface: string[] = [], order?: OrderDoc): Promise<void> {
    const texts = await infoTexts(s, info, order);
    if (!texts) return mainMenu(s, preface);
    s.state.lastInfo = info;
    s.state.misses = 0;
    s.state.selfServed = true;
    s.twiml.say(s.lang, ...preface, ...texts);
    anythingElse(s);
  }

  // --- representatives, queue, after hours --------------------------------------------------------

  async function toRep(s: Session, reason: RepReason, preface: string[] = []): Promise<void> {
    s.state.misses = 0;
    if (!isOpen(s.config.hours, s.now)) {
      step(s, 'rep', 'after_hours');
      return afterHours(s, preface);
    }
    step(s, 'queue', reason);
    const entered: Record<string, string> = { reason, ...enteredOf(s.state) };
    if (!s.state.verifiedOrder && s.state.orderAttempts > 0) entered.orderVerification = `failed ${s.state.orderAttempts} time${s.state.orderAttempts === 1 ? '' : 's'}`;
    if (s.state.lastInfo) entered.heard = s.state.lastInfo.startsWith('message:') ? 'message' : s.state.lastInfo;
    const queue = s.config.queue.name;
    // A queue keeps its SID, so after the first caller the record gets it with this write; the
    // wait request still checks it, and a different one (a recreated queue) is written then.
    const knownSid = queueSids.get(queue);
    await ivr.callQueued({
      callSid: s.state.callSid,
      callerId: s.state.callerId,
      queue,
      ...(knownSid ? { queueSid: knownSid } : {}),
      language: s.lang,
      tty: s.state.tty,
      recordingDeclined: s.state.recordingDeclined,
      entered,
      path: takePath(s),
    });
    s.state.queued = true;
    s.state.queueName = queue;
    if (knownSid) s.state.queueSid = knownSid;
    s.twiml.say(s.lang, ...preface, p(s, 'queueEntering')).enqueue(queue);
  }

  function afterHours(s: Session, preface: string[] = []): void {
    s.twiml.say(s.lang, ...preface, p(s, 'afterHours', { hours: hoursSpeech(s.config.hours, s.lang) }));
    callbackOffer(s);
  }

  function callbackOffer(s: Session, preface: string[] = []): void {
    const words = [...FOLLOW_UP_WORDS.callback[s.lang], ...FOLLOW_UP_WORDS.menu[s.lang]];
    s.twiml.gather(s.lang, { action: '/ivr/afterhours', numDigits: 1, timeout: timeoutFor(s), hints: words }, (say) => {
      say(s.lang, ...preface, p(s, 'callbackOffer', { callbackKey: FOLLOW_UP_KEYS.callback, menuKey: keyName(FOLLOW_UP_KEYS.menu, s.lang) }));
    });
  }

  const callerIdUsable = (callerId: string) => /^\+[1-9]\d{7,14}$/.test(callerId) && !WITHHELD_NUMBERS.has(callerId);

  function callbackStart(s: Session, preface: string[] = []): void {
    step(s, 'callback', 'started');
    s.state.misses = 0;
    if (!callerIdUsable(s.state.callerId)) return callbackNumberPrompt(s, preface);
    const words = [...FOLLOW_UP_WORDS.yes[s.lang], ...FOLLOW_UP_WORDS.other[s.lang]];
    s.twiml.gather(s.lang, { action: '/ivr/callback/number-choice', numDigits: 1, timeout: timeoutFor(s), hints: words }, (say) => {
      say(s.lang, ...preface, p(s, 'callbackUseCallerId', { last4: spellDigits(s.state.callerId.slice(-4)), useKey: FOLLOW_UP_KEYS.useCallerId, otherKey: FOLLOW_UP_KEYS.enterNumber }));
    });
  }

  function callbackNumberPrompt(s: Session, preface: string[] = []): void {
    s.twiml.gather(s.lang, { action: '/ivr/callback/number', finishOnKey: '#', timeout: timeoutFor(s), hints: [DIGITS_HINT] }, (say) => say(s.lang, ...preface, p(s, 'callbackEnterNumber')));
  }

  function bestTimePrompt(s: Session, preface: string[] = []): void {
    const words = [...FOLLOW_UP_WORDS.morning[s.lang], ...FOLLOW_UP_WORDS.afternoon[s.lang], ...FOLLOW_UP_WORDS.evening[s.lang]];
    s.twiml.gather(s.lang, { action: '/ivr/callback/time', numDigits: 1, timeout: timeoutFor(s), hints: words }, (say) => {
      say(s.lang, ...preface, p(s, 'callbackBestTime', { morningKey: FOLLOW_UP_KEYS.morning, afternoonKey: FOLLOW_UP_KEYS.afternoon, eveningKey: FOLLOW_UP_KEYS.evening }));
    });
  }

  // --- main-menu dispatch -------------------------------------------------------------------------

  async function dispatch(s: Session, option: MenuOption, preface: string[] = []): Promise<void> {
    s.state.misses = 0;
    step(s, 'main_menu', option.action === 'message' ? `message:${option.key}` : option.action);
    switch (option.action) {
      case 'order_status':
        if ((await ivr.recentVerificationFailures(s.state.callerId)) >= VERIFICATION_FAILURES_PER_HOUR) {
          step(s, 'order_status', 'caller_locked');
          return toRep(s, 'order_verification_failed', [...preface, p(s, 'tooManyAttempts')]);
        }
        return orderNumberPrompt(s, preface);
      case 'new_releases':
        return giveInfo(s, 'new_releases', preface);
      case 'hours_address':
        return giveInfo(s, 'hours_address', preface);
      case 'tty':
        s.state.tty = true;
        return giveInfo(s, 'tty', preface);
      case 'message':
        return giveInfo(s, `message:${option.key}`, preface);
      case 'representative':
        return toRep(s, 'asked_for_rep', preface);
    }
  }

  /** A failed try at identifying an order; the third one goes to a rep instead of another try. */
  async function orderFailure(s: Session, retry: () => void, preface: string): Promise<void> {
    s.state.orderAttempts += 1;
    if (s.state.orderAttempts >= s.config.input.maxAttempts) {
      step(s, 'order_status', 'too_many_attempts');
      s.state.candidateOrderId = undefined;
      return toRep(s, 'order_verification_failed', [preface, p(s, 'tooManyAttempts')]);
    }
    s.state.misses = s.state.orderAttempts;
    retry();
  }

  // --- the steps ---------------------------------------------------------------------------------

  const flow = (handle: (s: Session, params: TwilioParams) => Promise<void> | void): FlowStep => ({
    context: 'flow',
    async handle(params, scope) {
      const s = await begin(params, scope);
      await handle(s, params);
      return finish(s);
    },
  });

  return {
    '/voice': {
      context: 'flow',
      async handle(params, scope) {
        const s = await begin(params, scope, { create: true });
        if (s.isNew) {
          const local = localTime(s.now, s.config.hours.timeZone);
          await ivr.callStarted({ callSid: s.state.callSid, callerId: params.From ?? '', to: params.To ?? '', day: local.date, hour: local.hour });
        }
        step(s, 'greeting');
        languageMenu(s, true);
        return finish(s);
      },
    },

    '/language': flow(async (s) => {
      const menu = s.config.languageMenu;
      let choice: IvrLanguage | undefined;
      if (s.input.digits) choice = s.input.digits === menu.en.key ? 'en' : s.input.digits === menu.es.key ? 'es' : undefined;
      else if (s.input.speech) choice = matchPhrases(s.input.speech, [{ value: 'en' as const, phrases: menu.en.speech }, { value: 'es' as const, phrases: menu.es.speech }]);
      if (!choice) {
        if (!miss(s)) {
          step(s, 'language', 'retry');
          const none = inputKind(s.input) === 'none';
          return languageMenu(s, false, {
            en: promptText(s.config, none ? 'noInput' : 'notUnderstood', 'en'),
            es: promptText(s.config, none ? 'noInput' : 'notUnderstood', 'es'),
          });
        }
        // Never trap a caller in the language menu: carry on in English.
        choice = 'en';
        step(s, 'language', 'default_en');
      } else step(s, 'language', choice);
      s.state.lang = choice;
      s.lang = choice;
      s.state.misses = 0;
      recordingNotice(s);
    }),

    '/notice': flow(async (s) => {
      const { declineKey, declineSpeech } = s.config.recording;
      const declined = s.input.digits ? s.input.digits === declineKey : s.input.speech ? matchPhrases(s.input.speech, [{ value: true, phrases: declineSpeech[s.lang] }]) === true : false;
      if (declined) {
        s.state.recordingDeclined = true;
        step(s, 'recording', 'declined');
        await ivr.recordProgress(s.state.callSid, takePath(s), { language: s.lang, recordingDeclined: true });
        return mainMenu(s, [p(s, 'recordingDeclined')]);
      }
      step(s, 'recording', 'accepted');
      // Callers who know the menu press its key during the notice.
      const option = inputKind(s.input) === 'none' ? undefined : matchMenuOption(s.input, s.config.mainMenu.options, s.lang);
      if (option) return dispatch(s, option);
      mainMenu(s);
    }),

    '/menu': flow((s) => {
      s.state.misses = 0;
      step(s, 'main_menu', 'shown');
      mainMenu(s);
    }),

    '/menu/choice': flow(async (s) => {
      const option = matchMenuOption(s.input, s.config.mainMenu.options, s.lang);
      if (option) return dispatch(s, option);
      step(s, 'main_menu', inputKind(s.input) === 'none' ? 'no_input' : 'not_understood');
      if (miss(s)) return toRep(s, 'menu_not_understood', [missPrompt(s), p(s, 'tooManyAttempts')]);
      mainMenu(s, [missPrompt(s)]);
    }),

    '/followup': flow(async (s) => {
      const choice = matchFollowUp(s.input, { [FOLLOW_UP_KEYS.repeat]: 'repeat', [FOLLOW_UP_KEYS.menu]: 'menu', [FOLLOW_UP_KEYS.rep]: 'rep' } as const, s.lang);
      if (!choice) {
        const silent = inputKind(s.input) === 'none';
        step(s, 'followup', silent ? 'no_input' : 'not_understood');
        s.state.misses += 1;
        // The caller was served and was told they may hang up: a second silence ends the call politely.
        if (s.state.misses >= (silent ? 2 : s.config.input.maxAttempts)) return goodbye(s);
        return anythingElse(s, [missPrompt(s)]);
      }
      step(s, 'followup', choice);
      s.state.misses = 0;
      if (choice === 'repeat') return giveInfo(s, s.state.lastInfo ?? 'hours_address');
      if (choice === 'menu') return mainMenu(s);
      return toRep(s, 'asked_for_rep');
    }),

    '/order/number': flow(async (s) => {
      const digits = digitsFrom(s.input);
      if (!digits) {
        step(s, 'order_number', 'no_input');
        return orderFailure(s, () => orderNumberPrompt(s, [p(s, 'noInput')]), p(s, 'noInput'));
      }
      const ref = ivr.orderRef(digits);
      if (!isValidOrderNumber(digits)) {
        step(s, 'order_number', 'invalid', ref);
        // The keyed reference, never the digits: repeated guesses stay visible without the numbers.
        logger.info({ callSid: s.state.callSid, ref, attempt: s.state.orderAttempts + 1 }, 'IVR order number failed its check digit');
        return orderFailure(s, () => orderNumberPrompt(s, [p(s, 'orderNumberInvalid')]), p(s, 'orderNumberInvalid'));
      }
      // Whether such an order exists is not said until the ZIP matches too.
      const order = await orders.findByNumber(digits);
      s.state.candidateOrderId = order?._id ?? null;
      s.state.candidateRef = ref;
      step(s, 'order_number', 'accepted', ref);
      s.state.misses = 0;
      zipPrompt(s);
    }),

    '/order/zip': flow(async (s) => {
      const zip = digitsFrom(s.input);
      if (!zip) {
        step(s, 'order_zip', 'no_input');
        return orderFailure(s, () => zipPrompt(s, [p(s, 'noInput')]), p(s, 'noInput'));
      }
      const candidate = s.state.candidateOrderId;
      const order = candidate ? await orders.get(candidate).catch(() => undefined) : undefined;
      if (!order || zip.length !== 5 || !ivr.zipMatches(zip, order.billingAddress?.postalCode)) {
        step(s, 'order_zip', 'not_verified', s.state.candidateRef);
        const recent = await ivr.countVerificationFailure(s.state.callerId);
        logger.info({ callSid: s.state.callSid, ref: s.state.candidateRef, attempt: s.state.orderAttempts + 1, callerFailuresThisHour: recent }, 'IVR order verification failed');
        s.state.candidateOrderId = undefined;
        s.state.candidateRef = undefined;
        if (recent >= VERIFICATION_FAILURES_PER_HOUR) s.state.orderAttempts = s.config.input.maxAttempts;
        return orderFailure(s, () => orderNumberPrompt(s, [p(s, 'orderNotVerified')]), p(s, 'orderNotVerified'));
      }
      s.state.verifiedOrder = { orderId: order._id, orderNumber: order.orderNumber };
      s.state.candidateOrderId = undefined;
      s.state.candidateRef = undefined;
      s.state.orderAttempts = 0;
      step(s, 'order_zip', 'verified');
      await giveInfo(s, 'order', [], order);
    }),

    '/afterhours': flow((s) => {
      const choice = matchFollowUp(s.input, { [FOLLOW_UP_KEYS.callback]: 'callback', [FOLLOW_UP_KEYS.menu]: 'menu' } as const, s.lang);
      if (choice === 'callback') return callbackStart(s);
      if (choice === 'menu') {
        step(s, 'after_hours', 'menu');
        s.state.misses = 0;
        return mainMenu(s);
      }
      step(s, 'after_hours', inputKind(s.input) === 'none' ? 'no_input' : 'not_understood');
      if (miss(s)) return goodbye(s);
      callbackOffer(s, [missPrompt(s)]);
    }),

    '/callback/number-choice': flow((s) => {
      const choice = matchFollowUp(s.input, { [FOLLOW_UP_KEYS.useCallerId]: 'yes', [FOLLOW_UP_KEYS.enterNumber]: 'other' } as const, s.lang);
      if (choice === 'yes') {
        s.state.callbackPhone = { phone: s.state.callerId, source: 'caller_id' };
        step(s, 'callback_number', 'caller_id');
        s.state.misses = 0;
        return bestTimePrompt(s);
      }
      if (choice === 'other') {
        step(s, 'callback_number', 'enter');
        s.state.misses = 0;
        return callbackNumberPrompt(s);
      }
      step(s, 'callback_number', inputKind(s.input) === 'none' ? 'no_input' : 'not_understood');
      if (miss(s)) {
        // The caller id is there: use it rather than give up on the callback.
        s.state.callbackPhone = { phone: s.state.callerId, source: 'caller_id' };
        s.state.misses = 0;
        return bestTimePrompt(s);
      }
      callbackStart(s, [missPrompt(s)]);
    }),

    '/callback/number': flow((s) => {
      let digits = digitsFrom(s.input);
      if (digits.length === 11 && digits.startsWith('1')) digits = digits.slice(1);
      if (/^[2-9]\d{2}[2-9]\d{6}$/.test(digits)) {
        s.state.callbackPhone = { phone: `+1${digits}`, source: 'entered' };
        step(s, 'callback_number', 'entered');
        s.state.misses = 0;
        return bestTimePrompt(s);
      }
      step(s, 'callback_number', digits ? 'invalid' : 'no_input');
      if (miss(s)) {
        // Back to the choice of the number they are calling from, when there is one to offer.
        if (callerIdUsable(s.state.callerId)) return callbackStart(s, [p(s, 'callbackNumberInvalid')]);
        return goodbye(s, [p(s, 'callbackNumberInvalid'), p(s, 'apology')]);
      }
      callbackNumberPrompt(s, [digits ? p(s, 'callbackNumberInvalid') : p(s, 'noInput')]);
    }),

    '/callback/time': flow(async (s) => {
      const choice = matchFollowUp(s.input, { [FOLLOW_UP_KEYS.morning]: 'morning', [FOLLOW_UP_KEYS.afternoon]: 'afternoon', [FOLLOW_UP_KEYS.evening]: 'evening' } as const, s.lang);
      let bestTime: string | undefined = choice;
      if (!bestTime && s.input.speech) bestTime = s.input.speech.replace(/[\p{Cc}\p{Cf}]/gu, ' ').trim().slice(0, 120) || undefined;
      if (!bestTime) {
        step(s, 'callback_time', inputKind(s.input) === 'none' ? 'no_input' : 'not_understood');
        if (!miss(s)) return bestTimePrompt(s, [missPrompt(s)]);
        bestTime = 'any time';
      }
      const phone = s.state.callbackPhone ?? (callerIdUsable(s.state.callerId) ? { phone: s.state.callerId, source: 'caller_id' as const } : undefined);
      if (!phone) return callbackStart(s);
      step(s, 'callback_time', (['morning', 'afternoon', 'evening', 'any time'] as string[]).includes(bestTime) ? bestTime : 'spoken');
      await ivr.requestCallback({ callSid: s.state.callSid, phone: phone.phone, phoneSource: phone.source, bestTime, language: s.lang, path: takePath(s) });
      s.state.misses = 0;
      s.state.wantsCallback = false;
      goodbye(s, [p(s, 'callbackConfirmed', { when: callbackWhenSpeech(nextOpening(s.config.hours, s.now), bestTime, s.lang) })]);
    }),

    '/queue/wait': {
      context: 'wait',
      async handle(params, scope) {
        const s = await begin(params, scope);
        const position = Math.max(1, Number.parseInt(params.QueuePosition ?? '1', 10) || 1);
        if (params.QueueSid && /^QU[0-9a-f]{32}$/.test(params.QueueSid) && s.state.queueSid !== params.QueueSid) {
          await ivr.queueSidSeen(s.state.callSid, params.QueueSid);
          s.state.queueSid = params.QueueSid;
          if (s.state.queueName) queueSids.set(s.state.queueName, params.QueueSid);
          await states.save(s.state);
        }
        // Recomputed on each wait request: the caller's current place times the measured handle time.
        const minutes = Math.max(1, Math.ceil((await ivr.estimatedWaitSeconds(position, s.config)) / 60));
        s.twiml.waitGather(
          '/ivr/queue/wait/key',
          (gather, sayAttributes) => {
            gather.say(sayAttributes, p(s, 'queuePosition', { position }));
            gather.say(sayAttributes, minutes === 1 ? p(s, 'queueEstimateOneMinute') : p(s, 'queueEstimate', { minutes }));
            gather.say(sayAttributes, p(s, 'queueCallbackOffer', { key: FOLLOW_UP_KEYS.callback }));
            gather.play(s.config.queue.holdMusicUrl);
          },
          s.lang,
        );
        return s.twiml.toString();
      },
    },

    '/queue/wait/key': {
      context: 'wait',
      async handle(params, scope) {
        const s = await begin(params, scope);
        if (s.input.digits === FOLLOW_UP_KEYS.callback) {
          s.state.wantsCallback = true;
          step(s, 'queue', 'callback_key');
          await states.save(s.state);
          return s.twiml.leave().toString();
        }
        return s.twiml.redirect('/ivr/queue/wait').toString();
      },
    },

    '/queue/left': flow(async (s, params) => {
      const result = params.QueueResult ?? 'unknown';
      await ivr.leftQueue(s.state.callSid, result, Number(params.QueueTime ?? 0) || 0);
      if (result === 'redirected') return; // Twilio runs the redirect's TwiML, not this answer.
      s.state.queued = false;
      step(s, 'queue_left', result);
      if (result === 'hangup') return;
      if (result === 'bridged') return goodbye(s);
      if (result === 'leave') {
        if (s.state.wantsCallback) {
          s.state.wantsCallback = false;
          return callbackStart(s);
        }
        return mainMenu(s);
      }
      // queue-full, error, system-error: no rep this way, so offer the callback instead.
      callbackStart(s, [p(s, 'apology')]);
    }),

    '/queue/connect': flow(async (s) => {
      const acceptance = await ivr.acceptanceOf(s.state.callSid);
      if (!acceptance) return toRep(s, 'error_recovery');
      await ivr.repDialing(s.state.callSid);
      s.state.queued = false;
      // Recorded only when this call's state shows the notice was played and not declined.
      const record = s.state.noticeGiven && !s.state.recordingDeclined;
      step(s, 'rep', record ? 'dialing_recorded' : 'dialing_unrecorded');
      s.twiml.say(s.lang, p(s, 'connecting'));
      const dial = s.twiml.response.dial({
        action: s.twiml.url('/ivr/queue/rep-done'),
        method: 'POST',
        timeout: s.config.queue.repRingSeconds,
        ...(record
          ? {
              record: 'record-from-answer-dual',
              recordingStatusCallback: s.twiml.url('/ivr/recording/status'),
              recordingStatusCallbackMethod: 'POST',
              recordingStatusCallbackEvent: ['completed'],
            }
          : {}),
      });
      const whisper = { url: s.twiml.url(`/ivr/queue/whisper?call=${s.state.callSid}`), method: 'POST' as const };
      if (acceptance.target.type === 'number') dial.number(whisper, acceptance.target.value);
      else dial.client(whisper, acceptance.target.value);
    }),

    '/queue/rep-done': flow(async (s, params) => {
      const outcome = await ivr.repLegEnded(s.state.callSid, params.DialCallStatus ?? 'failed', Number(params.DialCallDuration ?? 0) || 0);
      step(s, 'rep', outcome);
      if (outcome === 'connected') return goodbye(s);
      return toRep(s, 'rep_unavailable', [p(s, 'repUnavailable')]);
    }),

    /** Played to the rep when they answer, before the caller is connected. English: staff language. */
    '/queue/whisper': {
      context: 'notify',
      async handle(params, scope) {
        const callSid = params.call ?? '';
        const { config } = await ivr.activeConfig();
        scope.config = config;
        const twiml = new Twiml(config, publicBaseUrl);
        const known = CALL_SID.test(callSid) ? await ivr.callFacts(callSid) : undefined;
        const caller = `${ivr.store.name} caller.`;
        if (!known) return twiml.say('en', caller).toString();
        const parts = [caller];
        parts.push(known.customerName ? `Matched customer ${known.customerName}.` : known.customerMatches > 1 ? 'Several customers share this number.' : 'Caller not matched to a customer.');
        if (known.entered?.verifiedOrderNumber) parts.push(`Verified order ${orderNumberSpeech(known.entered.verifiedOrderNumber)}.`);
        parts.push(known.recordingDeclined ? 'The caller declined recording. This call is not recorded.' : 'This call is recorded.');
        return twiml.say('en', parts.join(' ')).toString();
      },
    },

    '/status': {
      context: 'notify',
      async handle(params, scope) {
        const callSid = params.CallSid ?? '';
        if (!CALL_SID.test(callSid)) return EMPTY_TWIML;
        scope.callSid = callSid;
        const status = params.CallStatus ?? '';
        if (!['completed', 'busy', 'no-answer', 'failed', 'canceled'].includes(status)) return EMPTY_TWIML;
        const state = await states.get(callSid);
        const duration = Number.parseInt(params.CallDuration ?? '', 10);
        await ivr.callEnded(callSid, {
          status,
          durationSeconds: Number.isFinite(duration) ? duration : null,
          path: state?.pendingPath ?? [],
          selfServed: state?.selfServed ?? false,
          ...(state ? { facts: { language: state.lang, tty: state.tty, recordingDeclined: state.recordingDeclined, entered: enteredOf(state) } } : {}),
        });
        await states.remove(callSid);
        return EMPTY_TWIML;
      },
    },

    '/recording/status': {
      context: 'notify',
      async handle(params) {
        const result = await ivr.recordingReported(params);
        if (result === 'ignored') logger.info({ status: params.RecordingStatus, callSid: params.CallSid }, 'recording callback without a completed recording; nothing stored');
        return EMPTY_TWIML;
      },
    },

    /** Twilio's fallback URL: the primary webhook failed. Nothing here may depend on what just failed. */
    '/fallback': {
      context: 'flow',
      async handle(params) {
        logger.warn({ errorCode: params.ErrorCode, callSid: params.CallSid }, 'Twilio used the fallback URL');
        const callSid = params.CallSid ?? '';
        const lang = CALL_SID.test(callSid) ? ((await states.get(callSid).catch(() => undefined))?.lang ?? null) : null;
        return twimlForError({ context: 'flow', lang, config: ivr.lastKnownConfig(), publicBaseUrl });
      },
    },
  };
}
