import { expect } from 'chai';
import { z } from 'zod';
import { createSignedTokens } from '../../platform/signed-tokens.ts';

const SECRET = 'signed-token-test-secret-0123456789abcdef';
const NOW = new Date('2026-06-01T12:00:00Z');
const Claims = z.strictObject({ orderId: z.string().min(1), action: z.enum(['confirm', 'cancel']) });
const links = createSignedTokens(SECRET, { purpose: 'test-link', claims: Claims });

/** The token's payload replaced by other JSON, the original signature kept. */
const withPayload = (token: string, wire: unknown) => `${Buffer.from(JSON.stringify(wire)).toString('base64url')}.${token.split('.')[1]}`;

describe('signed tokens (platform/signed-tokens.ts)', () => {
  it('round-trips the claims, with and without an expiry', () => {
    const forever = links.sign({ orderId: 'o-1', action: 'confirm' });
    expect(forever).to.match(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(links.verify(forever, NOW)).to.deep.equal({ status: 'valid', claims: { orderId: 'o-1', action: 'confirm' }, expiresAt: null });
    const expiresAt = new Date(NOW.getTime() + 60_000);
    const timed = links.sign({ orderId: 'o-1', action: 'cancel' }, { expiresAt });
    expect(links.verify(timed, NOW)).to.deep.equal({ status: 'valid', claims: { orderId: 'o-1', action: 'cancel' }, expiresAt });
  });

  it('reports a genuine token at and after its expiry as expired, with what it was for', () => {
    const expiresAt = new Date(NOW.getTime() + 60_000);
    const token = links.sign({ orderId: 'o-2', action: 'confirm' }, { expiresAt });
    expect(links.verify(token, new Date(expiresAt.getTime() - 1)).status).to.equal('valid');
    expect(links.verify(token, expiresAt)).to.deep.equal({ status: 'expired', claims: { orderId: 'o-2', action: 'confirm' }, expiresAt });
    expect(links.verify(token, new Date(expiresAt.getTime() + 86_400_000)).status).to.equal('expired');
  });

  it('binds a token to its purpose and secret: the same claims signed for another purpose or with another secret do not verify', () => {
    const token = links.sign({ orderId: 'o-3', action: 'confirm' });
    const otherPurpose = createSignedTokens(SECRET, { purpose: 'test-other', claims: Claims });
    const otherSecret = createSignedTokens(`${SECRET}x`, { purpose: 'test-link', claims: Claims });
    expect(otherPurpose.verify(token, NOW).status).to.equal('invalid');
    expect(otherSecret.verify(token, NOW).status).to.equal('invalid');
    expect(links.verify(otherPurpose.sign({ orderId: 'o-3', action: 'confirm' }), NOW).status).to.equal('invalid');
  });

  it('refuses changed claims, a changed or removed expiry and a flipped signature', () => {
    const expiresAt = new Date(NOW.getTime() + 60_000);
    const token = links.sign({ orderId: 'o-4', action: 'confirm' }, { expiresAt });
    const wire = { c: { orderId: 'o-4', action: 'confirm' }, x: expiresAt.getTime() };
    // The same payload re-encoded verifies: what follows fails because of the change alone.
    expect(links.verify(withPayload(token, wire), NOW).status).to.equal('valid');
    for (const changed of [{ ...wire, c: { ...wire.c, action: 'cancel' } }, { ...wire, c: { ...wire.c, orderId: 'o-5' } }, { ...wire, x: wire.x + 86_400_000 }, { c: wire.c }]) {
      expect(links.verify(withPayload(token, changed), NOW).status, JSON.stringify(changed)).to.equal('invalid');
    }
    const [payload, signature] = token.split('.') as [string, string];
    const flipped = `${signature.slice(0, 5)}${signature[5] === 'A' ? 'B' : 'A'}${signature.slice(6)}`;
    expect(links.verify(`${payload}.${flipped}`, NOW).status).to.equal('invalid');
  });

  it('accepts only the canonical spelling of the signature', () => {
    const token = links.sign({ orderId: 'o-6', action: 'confirm' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The last of 43 base64url characters carries two unused bits: its sibling decodes to the same bytes.
    const sibling = alphabet[alphabet.indexOf(token.at(-1)!) ^ 1]!;
    expect(links.verify(`${token.slice(0, -1)}${sibling}`, NOW).status).to.equal('invalid');
  });

  it('answers invalid for anything malformed, without throwing', () => {
    const token = links.sign({ orderId: 'o-7', action: 'confirm' });
    const bad: unknown[] = [undefined, null, 42, '', '.', 'abc', 'a.b', `${token}.x`, `${token}x`, `.${token.split('.')[1]}`, 'x'.repeat(2000), `${token.split('.')[0]}!.${token.split('.')[1]}`];
    for (const value of bad) expect(links.verify(value, NOW).status, String(value).slice(0, 30)).to.equal('invalid');
  });

  it('refuses claims that do not fit the schema, when signing and when verifying', () => {
    expect(() => links.sign({ orderId: '', action: 'confirm' })).to.throw(TypeError);
    expect(() => links.sign({ orderId: 'o-8', action: 'refund' as never })).to.throw(TypeError);
    expect(() => links.sign({ orderId: 'o-8', action: 'confirm' }, { expiresAt: new Date(Number.NaN) })).to.throw(TypeError);
    // A wider schema for the same purpose signs what this one must refuse.
    const wider = createSignedTokens(SECRET, { purpose: 'test-link', claims: z.object({ orderId: z.string(), action: z.string() }) });
    expect(links.verify(wider.sign({ orderId: 'o-8', action: 'refund' }), NOW).status).to.equal('invalid');
  });

  it('refuses tokens longer than the purpose allows before checking them', () => {
    const short = createSignedTokens(SECRET, { purpose: 'test-link', claims: Claims, maxLength: 40 });
    const token = links.sign({ orderId: 'o-9', action: 'confirm' });
    expect(token.length).to.be.greaterThan(40);
    expect(short.verify(token, NOW).status).to.equal('invalid');
  });
});
