import { isAppError } from '../platform/errors.ts';
import type { IvrConfig, IvrLanguage } from '../api/ivr/schema.ts';
import { promptText } from './speech.ts';
import { EMPTY_TWIML, Twiml } from './twiml-builder.ts';

/**
 * The TwiML mapper of the error family. A caller never hears an application error: Twilio plays its
 * own "an application error has occurred" on any 4xx/5xx, so every failure inside a webhook
 * (database down, a bug, bad input, the time budget running out) is answered 200 with TwiML that
 * apologises and puts the caller through to a rep. Which TwiML depends on where Twilio is:
 *
 * - `flow`: an ordinary step of the call. Apology, then the queue to a rep (in the caller's
 *   language, or both languages before one was chosen).
 * - `wait`: a queue's wait document, where Enqueue is not allowed: the caller stays in the queue and
 *   hears the hold audio.
 * - `notify`: status and recording callbacks, which Twilio does not play: an empty document.
 *
 * Whether the rep leg is recorded is decided by the connect step from the call's state, and only
 * when the recording notice is known to have been played; after an error that never assumes it was.
 */
export type WebhookContext = 'flow' | 'wait' | 'notify';

export interface ErrorTwimlOptions {
  context: WebhookContext;
  lang: IvrLanguage | null;
  config: IvrConfig;
  publicBaseUrl: string;
}

export function twimlForError(options: ErrorTwimlOptions): string {
  const { context, lang, config, publicBaseUrl } = options;
  if (context === 'notify') return EMPTY_TWIML;
  const twiml = new Twiml(config, publicBaseUrl);
  if (context === 'wait') return twiml.play(config.queue.holdMusicUrl).toString();
  const languages: IvrLanguage[] = lang ? [lang] : ['en', 'es'];
  for (const language of languages) twiml.say(language, promptText(config, 'apology', language));
  for (const language of languages) twiml.say(language, promptText(config, 'apologyRep', language));
  return twiml.enqueue(config.queue.name).toString();
}

/** What a log line may say about a failure: the stable code, never input echoed in a message. */
export function describeError(error: unknown): Record<string, unknown> {
  if (isAppError(error)) return { code: error.code, kind: error.kind };
  if (error instanceof Error) return { name: error.name, message: error.message.slice(0, 300) };
  return { error: String(error).slice(0, 300) };
}
