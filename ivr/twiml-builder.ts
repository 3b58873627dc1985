import twilio from 'twilio';
import type { IvrConfig, IvrLanguage } from '../api/ivr/schema.ts';

type VoiceResponse = InstanceType<typeof twilio.twiml.VoiceResponse>;
type GatherAttributes = Parameters<VoiceResponse['gather']>[0];
type SayAttributes = Parameters<VoiceResponse['say']>[0];

/**
 * TwiML through the official builder (it escapes text and attributes), with the IVR's conventions:
 * every URL absolute on the public base (a relative one would resolve wrongly behind a proxy that
 * adds a path prefix), every Say in the caller's language and voice.
 */
export class Twiml {
  readonly response = new twilio.twiml.VoiceResponse();
  private readonly config: IvrConfig;
  private readonly publicBaseUrl: string;

  constructor(config: IvrConfig, publicBaseUrl: string) {
    this.config = config;
    this.publicBaseUrl = publicBaseUrl;
  }

  url(path: string): string {
    return `${this.publicBaseUrl}${path}`;
  }

  private sayAttributes(lang: IvrLanguage): SayAttributes {
    const { language, voice } = this.config.voices[lang];
    return (voice ? { language, voice } : { language }) as SayAttributes;
  }

  say(lang: IvrLanguage, ...texts: string[]): this {
    for (const text of texts) if (text.trim() !== '') this.response.say(this.sayAttributes(lang), text);
    return this;
  }

  /**
   * A Gather that always posts to its action, with or without input (actionOnEmptyResult), so one
   * handler sees every outcome of a step: a key, speech, or silence.
   */
  gather(
    lang: IvrLanguage,
    options: { action: string; numDigits?: number; finishOnKey?: string; timeout: number; speech?: boolean; hints?: string[]; speechLanguage?: IvrLanguage },
    prompts: (say: (lang: IvrLanguage, ...texts: string[]) => void) => void,
  ): this {
    const attributes: Record<string, unknown> = {
      action: this.url(options.action),
      method: 'POST',
      timeout: options.timeout,
      actionOnEmptyResult: true,
      input: options.speech === false ? ['dtmf'] : ['dtmf', 'speech'],
    };
    if (options.numDigits !== undefined) attributes.numDigits = options.numDigits;
    if (options.finishOnKey !== undefined) attributes.finishOnKey = options.finishOnKey;
    if (options.speech !== false) {
      attributes.language = this.config.voices[options.speechLanguage ?? lang].language;
      attributes.speechTimeout = 'auto';
      const hints = (options.hints ?? []).filter(Boolean).join(', ');
      if (hints) attributes.hints = hints.slice(0, 500);
    }
    const gather = this.response.gather(attributes as GatherAttributes);
    prompts((sayLang, ...texts) => {
      for (const text of texts) if (text.trim() !== '') gather.say(this.sayAttributes(sayLang), text);
    });
    return this;
  }

  /** A Gather inside a queue's wait document: keys only, posting only when a key is pressed. */
  waitGather(action: string, build: (gather: ReturnType<VoiceResponse['gather']>, sayAttributes: SayAttributes) => void, lang: IvrLanguage): this {
    const gather = this.response.gather({ action: this.url(action), method: 'POST', numDigits: 1, timeout: 1, input: ['dtmf'] });
    build(gather, this.sayAttributes(lang));
    return this;
  }

  redirect(path: string): this {
    this.response.redirect({ method: 'POST' }, this.url(path));
    return this;
  }

  enqueue(queue: string): this {
    this.response.enqueue({ waitUrl: this.url('/ivr/queue/wait'), waitUrlMethod: 'POST', action: this.url('/ivr/queue/left'), method: 'POST' }, queue);
    return this;
  }

  play(url: string): this {
    this.response.play(url);
    return this;
  }

  leave(): this {
    this.response.leave();
    return this;
  }

  hangup(): this {
    this.response.hangup();
    return this;
  }

  toString(): string {
    return this.response.toString();
  }
}

/** An empty document: the answer to status callbacks, which Twilio does not execute. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
