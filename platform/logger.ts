import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths that may carry card data or secrets anywhere in a log object. Redaction is a second line of
 * defence: code must not pass a PAN or CVV to a logger in the first place (the vault masks first).
 */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-twilio-signature"]',
  '*.password',
  '*.newPassword',
  '*.pan',
  '*.cardNumber',
  '*.number',
  '*.cvv',
  '*.cvc',
  '*.securityCode',
  '*.securityAnswer',
  '*.totpCode',
  '*.token',
  'card',
  'payment.card',
  'body.payment',
  'Digits',
  '*.Digits',
];

/** Card-number-like digit runs (13–19 digits, optionally grouped) in free text. */
const PAN_IN_TEXT = /\b(?:\d[ -]?){12,18}\d\b/g;

export function scrubText(text: string): string {
  return text.replace(PAN_IN_TEXT, (match) => {
    const digits = match.replace(/\D/g, '');
    return `[redacted ••••${digits.slice(-4)}]`;
  });
}

export interface LoggerFactoryOptions {
  level?: LoggerOptions['level'];
  name?: string;
  /** Tests pass a stream to capture every line (the privacy scan reads them). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerFactoryOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.name ?? 'mintdesk' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      // Messages are free text: scrub anything that looks like a card number before it is written.
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg)) as Parameters<typeof method>;
        method.apply(this, scrubbed);
      },
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(pinoOptions, options.destination as DestinationStream) : pino(pinoOptions);
}
