import { randomInt } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { mongo } from 'mongoose';
import type { Mailbox } from '../../platform/embedded/index.ts';
import type { ObjectStore } from '../../platform/object-store.ts';
import { scanKeys } from '../../platform/redis-keys.ts';

/**
 * The card-data scan of issue 3: after traffic, every place mintdesk writes to (Mongo documents,
 * Redis keys of every type, BullMQ jobs, log lines, S3 objects, sent mail) is searched for the
 * card numbers and security codes the traffic used. Kept apart from the test so the hardening
 * phase can point it at other scenarios.
 *
 * What counts as a hit:
 * - A card number: its digits in order, each pair optionally separated by one space or dash
 *   ("4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111"), anywhere in the text.
 *   Sixteen given digits in a row do not occur by chance, so this cannot false-positive in
 *   practice; the last four alone are allowed (they are what staff and customers see).
 * - A security code cannot be searched for as bare digits: "839" is also a port, a duration or a
 *   count. So the traffic uses unusual codes and a code is reported only where it can only be a
 *   code: (1) as the value of a field or parameter named cvv, cvv2, cvc, cvc2, csc, securityCode or
 *   security_code, in JSON (also escaped JSON inside JSON, as BullMQ stores payloads), form or
 *   free-text shape, whatever its digits (this also catches other suites' "123"); (2) as a JSON
 *   string value exactly equal to one of the traffic's codes (`"839"`), which no identifier, count
 *   or timestamp is. A field such as `cvvCheck: "match"` is the gateway's verdict, not a code, and
 *   a redacted `"cvv":"[redacted]"` holds no digits, so neither is a hit.
 */
export interface ScanSecrets {
  /** Card numbers as digits (separators are ignored). */
  pans: readonly string[];
  /** Unusual 3-4 digit codes the traffic sent; searched as exact JSON string values. */
  cvvs: readonly string[];
}

export type Store = 'mongo' | 'redis' | 'queue' | 'log' | 's3' | 'mail';

export interface PrivacyHit {
  store: Store;
  /** Collection and _id, Redis key, queue and job id, log line number, object key, mail id. */
  location: string;
  kind: 'pan' | 'cvv';
  /** The matched text with digits masked, so a report never repeats the secret. */
  excerpt: string;
}

interface TextMatch {
  kind: 'pan' | 'cvv';
  index: number;
  length: number;
}

export type Matcher = (text: string) => TextMatch[];

const CVV_FIELD = /\b(?:cvv2?|cvc2?|csc|security[_-]?code)\b["'\\]*\s*[:=]\s*["'\\]*\d{3,4}(?!\d)/gi;

export function createMatcher(secrets: ScanSecrets): Matcher {
  const pans = [...new Set(secrets.pans.map((pan) => pan.replace(/\D/g, '')))];
  if (pans.some((pan) => pan.length < 12)) throw new Error('a card number to scan for has fewer than 12 digits');
  if (secrets.cvvs.some((cvv) => !/^\d{3,4}$/.test(cvv))) throw new Error('security codes to scan for must be 3-4 digits');
  const panPattern = pans.length ? new RegExp(pans.map((pan) => pan.split('').join('[ -]?')).join('|'), 'g') : undefined;
  // A JSON string value (after a colon, comma or bracket), possibly escaped inside another JSON string.
  const cvvValue = secrets.cvvs.length ? new RegExp(`[:,\\[]\\s*\\\\*"(?:${secrets.cvvs.join('|')})\\\\*"`, 'g') : undefined;
  return (text) => {
    const found: TextMatch[] = [];
    const collect = (pattern: RegExp | undefined, kind: TextMatch['kind']) => {
      if (!pattern) return;
      pattern.lastIndex = 0;
      for (const match of text.matchAll(pattern)) found.push({ kind, index: match.index, length: match[0].length });
    };
    collect(panPattern, 'pan');
    collect(CVV_FIELD, 'cvv');
    collect(cvvValue, 'cvv');
    // One occurrence can match two CVV rules ("cvv":"839"); report it once.
    found.sort((a, b) => a.index - b.index);
    return found.filter((match, i) => !found.slice(0, i).some((earlier) => earlier.kind === match.kind && earlier.index + earlier.length > match.index));
  };
}

function hitsIn(text: string, matcher: Matcher, store: Store, location: string): PrivacyHit[] {
  return matcher(text).map(({ kind, index, length }) => {
    const start = Math.max(0, index - 30);
    const excerpt = `${text.slice(start, index)}${text.slice(index, index + length).replace(/\d/g, '#')}${text.slice(index + length, index + length + 30)}`;
    return { store, location, kind, excerpt: excerpt.replace(/\s+/g, ' ') };
  });
}

/** Every document of every collection of the database, JSON-serialised (field names included). */
export async function scanMongo(db: mongo.Db, matcher: Matcher): Promise<PrivacyHit[]> {
  const hits: PrivacyHit[] = [];
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    for await (const doc of db.collection(name).find({})) {
      hits.push(...hitsIn(JSON.stringify(doc), matcher, 'mongo', `${db.databaseName}.${name} _id=${String(doc._id)}`));
    }
  }
  return hits;
}

/** Redis glob for keys starting with `prefix` (glob characters in it are escaped). */
export const keysUnder = (prefix: string) => `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;

/**
 * Every key matching `pattern` (default: the whole instance), read whole whatever its type: the
 * key name, string values, hash fields and values, list, set and sorted-set members, stream entries.
 */
export async function scanRedis(redis: Redis, matcher: Matcher, pattern = '*'): Promise<PrivacyHit[]> {
  const hits: PrivacyHit[] = [];
  for await (const keys of scanKeys(redis, pattern)) {
    const types = (await redis.pipeline(keys.map((key) => ['type', key])).exec()) ?? [];
    const reads = keys.map((key, i) => {
      switch (types[i]?.[1]) {
        case 'string':
          return ['get', key];
        case 'hash':
          return ['hgetall', key];
        case 'list':
          return ['lrange', key, '0', '-1'];
        case 'set':
          return ['smembers', key];
        case 'zset':
          return ['zrange', key, '0', '-1', 'WITHSCORES'];
        case 'stream':
          return ['xrange', key, '-', '+'];
        default:
          return ['exists', key]; // gone since SCAN saw it, or a module type: the name is still scanned
      }
    });
    const values = (await redis.pipeline(reads).exec()) ?? [];
    keys.forEach((key, i) => {
      const value = values[i]?.[1];
      hits.push(...hitsIn(`${key} ${typeof value === 'string' ? value : JSON.stringify(value ?? null)}`, matcher, 'redis', key));
    });
  }
  return hits;
}

// BullMQ 6 keeps a paused queue's jobs in 'waiting'; it has no separate paused list.
const JOB_STATES = ['active', 'waiting', 'waiting-children', 'prioritized', 'delayed', 'completed', 'failed'] as const;

/** Every job of the queues in every state: payload, options, result, failure reason, stack traces and job logs. */
export async function scanQueues(queues: readonly Queue[], matcher: Matcher): Promise<{ hits: PrivacyHit[]; jobs: number }> {
  const hits: PrivacyHit[] = [];
  let jobs = 0;
  for (const queue of queues) {
    for (const job of await queue.getJobs([...JOB_STATES], 0, -1)) {
      if (!job) continue;
      jobs += 1;
      const logs = job.id ? (await queue.getJobLogs(job.id, 0, -1)).logs : [];
      const text = JSON.stringify({ name: job.name, data: job.data, opts: job.opts, returnvalue: job.returnvalue, failedReason: job.failedReason, stacktrace: job.stacktrace, logs });
      hits.push(...hitsIn(text, matcher, 'queue', `${queue.name} job ${job.id}`));
    }
  }
  return { hits, jobs };
}

export function scanLogLines(lines: readonly string[], matcher: Matcher): PrivacyHit[] {
  return lines.flatMap((line, index) => hitsIn(line, matcher, 'log', `log line ${index + 1}`));
}

/** Every object in the bucket, body and metadata. */
export async function scanObjectStore(store: ObjectStore, matcher: Matcher): Promise<{ hits: PrivacyHit[]; objects: number }> {
  const hits: PrivacyHit[] = [];
  const objects = await store.list('');
  for (const { key } of objects) {
    const { body } = await store.get(key);
    const text = (await readAll(body)).toString('latin1');
    const head = await store.head(key);
    hits.push(...hitsIn(`${key} ${JSON.stringify(head?.metadata ?? {})} ${text}`, matcher, 's3', `${store.bucket}/${key}`));
  }
  return { hits, objects: objects.length };
}

/** Every message: decoded text and HTML (a base64 body hides digits from the raw form), headers and the raw message. */
export function scanMailbox(mailbox: Mailbox, matcher: Matcher): { hits: PrivacyHit[]; messages: number } {
  const messages = mailbox.list();
  const hits = messages.flatMap((mail) =>
    hitsIn([mail.subject, mail.from, mail.to, mail.text, mail.html, JSON.stringify(mail.headers), mail.raw].join('\n'), matcher, 'mail', `mail ${mail.id} "${mail.subject}"`),
  );
  return { hits, messages: messages.length };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** A Luhn-valid 16-digit Visa number no fixture uses, so finding it anywhere means this run put it there. */
export function randomTestPan(): string {
  const digits = [4, ...Array.from({ length: 14 }, () => randomInt(10))];
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    // From the right of the final number, every second digit (the check digit is position 1) is doubled.
    let d = digits[digits.length - 1 - i]!;
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return [...digits, (10 - (sum % 10)) % 10].join('');
}

/** One line per hit, for an assertion message. */
export function describeHits(hits: readonly PrivacyHit[], max = 20): string {
  const lines = hits.slice(0, max).map((hit) => `${hit.store} ${hit.kind} at ${hit.location}: …${hit.excerpt}…`);
  if (hits.length > max) lines.push(`… and ${hits.length - max} more`);
  return lines.join('\n');
}

/**
 * `body` (deep-copied) with `value(path)` written at each dotted path ("shipments.0.giftMessage"),
 * creating objects and arrays on the way: how the free-text scan puts a card number in every field.
 */
export function withValuesAt<T>(body: T, paths: readonly string[], value: (path: string) => unknown): T {
  const copy = structuredClone(body) as Record<string, unknown>;
  for (const path of paths) {
    const keys = path.split('.');
    let node: Record<string, unknown> = copy;
    keys.slice(0, -1).forEach((key, i) => {
      node[key] ??= /^\d+$/.test(keys[i + 1]!) ? [] : {};
      node = node[key] as Record<string, unknown>;
    });
    node[keys.at(-1)!] = value(path);
  }
  return copy as T;
}

/**
 * A card number as people type it into text, in a different shape for each field (alone, grouped by
 * spaces or dashes, inside a sentence), each fitting in `max` characters.
 */
export function cardNumberInText(pan: string, index: number, max = Infinity): string {
  const spacedPan = pan.replace(/(\d{4})(?=\d)/g, '$1 ');
  const shapes = [`card ${spacedPan}, thanks`, spacedPan, pan.replace(/(\d{4})(?=\d)/g, '$1-'), `Apt ${pan}`, pan];
  return [...shapes.slice(index % shapes.length), ...shapes].find((shape) => shape.length <= max) ?? pan;
}
