import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { AuditActor, AuditDetails, AuditOutcome, AuditResource } from './schema.ts';

/**
 * The hash chain of the audit trail. Each entry's hash covers a canonical serialisation of its
 * fields and the previous entry's hash, so editing any field of an entry, removing one from the
 * middle or reordering them is visible to `verifyChain`.
 *
 * Canonical form: JSON with object keys sorted at every level, absent and null optional fields
 * written as null (a document round-tripped through Mongo may come back with either), dates as ISO
 * strings. Details are normalised through JSON before hashing and storing, so what is stored is
 * exactly what was hashed.
 */
export const GENESIS_HASH = '0'.repeat(64);
export const HASH_VERSION = 'mintdesk-audit-v1';

export interface ChainFields {
  seq: number;
  at: Date;
  actor: { type: AuditActor['type']; id: string; username?: string | null | undefined; role?: string | null | undefined };
  action: string;
  resource: { type: string; id?: string | null | undefined };
  outcome: AuditOutcome;
  ip?: string | null | undefined;
  details?: AuditDetails | null | undefined;
  prevHash: string;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function canonicalEntry(fields: ChainFields): string {
  const actor: AuditActor = { type: fields.actor.type, id: fields.actor.id };
  const resource: AuditResource = { type: fields.resource.type };
  return canonicalJson({
    v: HASH_VERSION,
    seq: fields.seq,
    at: fields.at.toISOString(),
    actor: { ...actor, username: fields.actor.username ?? null, role: fields.actor.role ?? null },
    action: fields.action,
    resource: { ...resource, id: fields.resource.id ?? null },
    outcome: fields.outcome,
    ip: fields.ip ?? null,
    details: (fields.details ?? null) as Json,
    prevHash: fields.prevHash,
  });
}

export function entryHash(fields: ChainFields): string {
  return createHash('sha256').update(canonicalEntry(fields)).digest('hex');
}

/**
 * The keyed anchor of each entry. The plain hash chain shows an edit only to someone who holds a
 * copy of a later hash: whoever can write the collection can edit an entry and re-hash every entry
 * after it. The MAC of each entry's hash is keyed with AUDIT_HMAC_KEY, which the database never
 * holds, so a rewritten entry's MAC cannot be recomputed. Separate keys are derived for entries
 * and for checkpoints so that one kind of value can never be passed off as the other.
 */
export interface AuditKeys {
  entryKey: Buffer;
  checkpointKey: Buffer;
}

export function deriveAuditKeys(auditHmacKey: string): AuditKeys {
  const derive = (label: string) => Buffer.from(hkdfSync('sha256', Buffer.from(auditHmacKey, 'utf8'), Buffer.from('mintdesk-audit'), Buffer.from(label), 32));
  return { entryKey: derive('audit-entry-mac-v1'), checkpointKey: derive('audit-checkpoint-v1') };
}

export function entryMac(keys: AuditKeys, hash: string): string {
  return createHmac('sha256', keys.entryKey).update(hash).digest('hex');
}

export function macMatches(expected: string, actual: string | null | undefined): boolean {
  if (typeof actual !== 'string' || actual.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(actual));
}

/**
 * Makes details storable and hashable identically: drops undefined, turns dates into ISO strings,
 * refuses functions, symbols, bigints and non-finite numbers, and keys Mongo cannot store.
 * Returns undefined for empty details.
 */
export function normaliseDetails(details: Record<string, unknown> | undefined): AuditDetails | undefined {
  if (!details) return undefined;
  const check = (value: unknown, path: string): void => {
    if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') return;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new TypeError(`audit details ${path} is not a finite number`);
      return;
    }
    if (value instanceof Date) return;
    if (Array.isArray(value)) return value.forEach((item, i) => check(item, `${path}.${i}`));
    if (typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key.startsWith('$') || key.includes('.')) throw new TypeError(`audit details key ${path}.${key} cannot be stored`);
        check(inner, `${path}.${key}`);
      }
      return;
    }
    throw new TypeError(`audit details ${path} is a ${typeof value}`);
  };
  check(details, 'details');
  const normalised = JSON.parse(JSON.stringify(details)) as AuditDetails;
  return Object.keys(normalised).length ? normalised : undefined;
}
