import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Logger } from '../logger.ts';

export interface ReceivedMail {
  id: string;
  receivedAt: Date;
  envelopeFrom: string;
  envelopeTo: string[];
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  /** The message as it arrived, for tests that scan everything the platform emitted. */
  raw: string;
}

/** Mail the embedded SMTP server accepted; the console's mail viewer and the tests read it. */
export interface Mailbox {
  list(): ReceivedMail[];
  get(id: string): ReceivedMail | undefined;
  waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  clear(): void;
}

export interface EmbeddedSmtp {
  url: string;
  mailbox: Mailbox;
  stop(): Promise<void>;
}

const KEEP_MESSAGES = 2000;

export async function startEmbeddedSmtp(options: { dataDir: string; persistent: boolean; logger: Logger }): Promise<EmbeddedSmtp> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<(mail: ReceivedMail) => void>();
  const mailDir = options.persistent ? resolve(options.dataDir, 'mail') : undefined;
  if (mailDir) mkdirSync(mailDir, { recursive: true });
  let sequence = 0;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        try {
          const raw = Buffer.concat(chunks);
          const parsed = await simpleParser(raw);
          const headers: Record<string, string> = {};
          for (const line of parsed.headerLines) headers[line.key] = line.line.slice(line.line.indexOf(':') + 1).trim();
          sequence += 1;
          const mail: ReceivedMail = {
            id: `${Date.now().toString(36)}-${sequence}`,
            receivedAt: new Date(),
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            from: parsed.from?.text ?? '',
            to: Array.isArray(parsed.to) ? parsed.to.map((t) => t.text).join(', ') : (parsed.to?.text ?? ''),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            headers,
            raw: raw.toString('utf8'),
          };
          messages.push(mail);
          if (messages.length > KEEP_MESSAGES) messages.splice(0, messages.length - KEEP_MESSAGES);
          if (mailDir) writeFileSync(resolve(mailDir, `${mail.id}.eml`), raw);
          for (const waiter of waiters) waiter(mail);
          callback();
        } catch (error) {
          callback(error as Error);
        }
      });
    },
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const port = (server.server.address() as AddressInfo).port;
  options.logger.info({ port }, 'embedded SMTP server started');

  const mailbox: Mailbox = {
    list: () => [...messages].reverse(),
    get: (id) => messages.find((m) => m.id === id),
    clear: () => void messages.splice(0, messages.length),
    waitFor(predicate, timeoutMs = 10_000) {
      const existing = messages.find(predicate);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolveWait, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching mail within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (mail: ReceivedMail) => {
          if (!predicate(mail)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolveWait(mail);
        };
        waiters.add(waiter);
      });
    },
  };
  return { url: `smtp://127.0.0.1:${port}`, mailbox, stop: () => new Promise((r) => server.close(() => r())) };
}
