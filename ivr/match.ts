import { normalizeOrderNumberInput } from '../api/orders/order-number.ts';
import { normalizeSpeech, type IvrLanguage, type MenuOption } from '../api/ivr/schema.ts';

/**
 * Understanding what a caller pressed or said. Keys always win over speech (Twilio sends both
 * when a caller talks and then presses a key). Matching is by whole words after normalizeSpeech,
 * so "I want to TRACK my order." hits the phrase "track my order", and "status" does not match
 * inside "statuses".
 */

export interface CallerInput {
  digits?: string | undefined;
  speech?: string | undefined;
}

export type InputKind = 'dtmf' | 'speech' | 'none';

export function inputKind(input: CallerInput): InputKind {
  if (input.digits) return 'dtmf';
  if (input.speech && input.speech.trim() !== '') return 'speech';
  return 'none';
}

function containsPhrase(words: string[], phraseWords: string[]): boolean {
  if (phraseWords.length === 0 || phraseWords.length > words.length) return false;
  outer: for (let i = 0; i + phraseWords.length <= words.length; i += 1) {
    for (let j = 0; j < phraseWords.length; j += 1) if (words[i + j] !== phraseWords[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * The entry whose longest phrase occurs in `speech`. Two entries matching equally long phrases is
 * ambiguous ("order status or a representative"): no match, and the caller is asked again.
 */
export function matchPhrases<T>(speech: string, entries: readonly { value: T; phrases: readonly string[] }[]): T | undefined {
  const words = normalizeSpeech(speech).split(' ').filter(Boolean);
  let best: { value: T; length: number } | undefined;
  let tie = false;
  for (const entry of entries) {
    const length = Math.max(0, ...entry.phrases.map((p) => normalizeSpeech(p).split(' ').filter(Boolean)).filter((p) => containsPhrase(words, p)).map((p) => p.length));
    if (length === 0) continue;
    if (!best || length > best.length) {
      best = { value: entry.value, length };
      tie = false;
    } else if (length === best.length && entry.value !== best.value) tie = true;
  }
  return best && !tie ? best.value : undefined;
}

const DIGIT_WORDS: Record<string, string> = {
  zero: '0', oh: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9',
  cero: '0', uno: '1', una: '1', dos: '2', tres: '3', cuatro: '4', cinco: '5', seis: '6', siete: '7', ocho: '8', nueve: '9',
};

/** "press one" / "opción dos" / "3": the key a caller said out loud, if the utterance is just that. */
export function spokenKey(speech: string): string | undefined {
  const words = normalizeSpeech(speech)
    .split(' ')
    .filter((w) => w && !['press', 'option', 'number', 'oprima', 'opcion', 'numero', 'el', 'la', 'the', 'please', 'por', 'favor'].includes(w));
  if (words.length !== 1) return undefined;
  const word = words[0]!;
  if (/^\d$/.test(word)) return word;
  return DIGIT_WORDS[word];
}

/** The main-menu option for a key or an utterance. */
export function matchMenuOption(input: CallerInput, options: readonly MenuOption[], lang: IvrLanguage): MenuOption | undefined {
  if (input.digits) return options.find((o) => o.key === input.digits!.charAt(0));
  if (!input.speech) return undefined;
  const key = spokenKey(input.speech);
  if (key !== undefined) return options.find((o) => o.key === key);
  return matchPhrases(input.speech, options.map((o) => ({ value: o, phrases: o.speech[lang] })));
}

/**
 * Digits from keys or speech: "4521 7730", "four five two one…", "cuatro cinco dos uno…",
 * "double seven". Spanish number words become digits before the order-number normaliser (which
 * knows English ones) runs; anything not understood stays in, so validation then fails.
 */
export function digitsFrom(input: CallerInput): string {
  if (input.digits) return input.digits.replace(/[^0-9]/g, '');
  if (!input.speech) return '';
  const words = normalizeSpeech(input.speech)
    .split(' ')
    .filter(Boolean)
    .map((w) => (/^(cero|uno|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve)$/.test(w) ? DIGIT_WORDS[w]! : w === 'doble' ? 'double' : w === 'triple' ? 'triple' : w));
  return normalizeOrderNumberInput(words.join(' '));
}

/** Words for the short follow-up menus, per language (keys are FOLLOW_UP_KEYS). */
export const FOLLOW_UP_WORDS: Record<'repeat' | 'menu' | 'rep' | 'callback' | 'yes' | 'other' | 'morning' | 'afternoon' | 'evening', Record<IvrLanguage, string[]>> = {
  repeat: { en: ['repeat', 'again', 'hear that again'], es: ['repetir', 'repita', 'otra vez', 'de nuevo'] },
  menu: { en: ['main menu', 'menu', 'start over'], es: ['menu principal', 'menu', 'empezar de nuevo'] },
  rep: { en: ['representative', 'agent', 'operator', 'person', 'someone'], es: ['representante', 'agente', 'operador', 'persona', 'asesor'] },
  callback: { en: ['call back', 'callback', 'call me back', 'call me'], es: ['devolver la llamada', 'llamenme', 'devuelvan la llamada', 'que me llamen'] },
  yes: { en: ['yes', 'this number', 'use this number', 'correct', 'that is right'], es: ['si', 'este numero', 'usar este numero', 'correcto'] },
  other: { en: ['different number', 'another number', 'other number', 'no'], es: ['otro numero', 'numero diferente', 'no'] },
  morning: { en: ['morning'], es: ['manana'] },
  afternoon: { en: ['afternoon'], es: ['tarde'] },
  evening: { en: ['evening', 'night', 'tonight'], es: ['noche'] },
};

/** A follow-up choice from a key (`keys` maps key to choice) or from the choice's words. */
export function matchFollowUp<C extends keyof typeof FOLLOW_UP_WORDS>(input: CallerInput, keys: Readonly<Record<string, C>>, lang: IvrLanguage): C | undefined {
  if (input.digits) return keys[input.digits.charAt(0)];
  if (!input.speech) return undefined;
  const key = spokenKey(input.speech);
  if (key !== undefined) return keys[key];
  const choices = [...new Set(Object.values(keys))];
  return matchPhrases(input.speech, choices.map((c) => ({ value: c, phrases: FOLLOW_UP_WORDS[c][lang] })));
}
