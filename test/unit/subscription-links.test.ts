import { expect } from 'chai';
import { AppError } from '../../platform/errors.ts';
import { signLink, verifyLink, type LinkClaims } from '../../api/subscriptions/links.ts';
import { unsubscribeToken } from '../../api/email/unsubscribe.ts';

const SECRET = 'unit-test-secret-0123456789abcdef0123456789';
const NOW = new Date('2026-03-01T12:00:00Z');
const claims: LinkClaims = {
  enrollmentId: '8f1f0c2e-3b5d-4c1a-9d7e-2a6b4c8d0e1f',
  releaseSku: 'PS-2027-CLAD',
  action: 'skip',
  expiresAt: new Date('2026-03-08T12:00:00Z'),
};

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected an error');
}

/** Replaces the claims part of a token (platform/signed-tokens.ts) with other JSON, keeping the original signature. */
function withClaims(token: string, wire: Record<string, unknown>): string {
  const [, signature] = token.split('.');
  return `${Buffer.from(JSON.stringify(wire)).toString('base64url')}.${signature}`;
}

describe('subscription links', () => {
  it('round-trips the enrollment, release, action and expiry (to the second)', () => {
    const token = signLink(claims, SECRET);
    expect(token).to.match(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyLink(token, SECRET, NOW)).to.deep.equal(claims);
  });

  it('gives each action its own token', () => {
    const tokens = (['confirm', 'skip', 'cancel'] as const).map((action) => signLink({ ...claims, action }, SECRET));
    expect(new Set(tokens).size).to.equal(3);
    expect(tokens.map((t) => verifyLink(t, SECRET, NOW).action)).to.deep.equal(['confirm', 'skip', 'cancel']);
  });

  it('rejects a token whose claims were changed (another action, release or enrollment, a later expiry)', () => {
    const token = signLink(claims, SECRET);
    const wire = { c: { enrollmentId: claims.enrollmentId, releaseSku: claims.releaseSku, action: claims.action }, x: claims.expiresAt.getTime() };
    // The unchanged claims with the original signature still verify: only the changes below break it.
    expect(verifyLink(withClaims(token, wire), SECRET, NOW)).to.deep.equal(claims);
    for (const changed of [{ ...wire, c: { ...wire.c, action: 'cancel' } }, { ...wire, c: { ...wire.c, releaseSku: 'PS-2028-CLAD' } }, { ...wire, c: { ...wire.c, enrollmentId: '00000000-0000-4000-8000-000000000000' } }, { ...wire, x: wire.x + 86_400_000 }]) {
      expect(errorOf(() => verifyLink(withClaims(token, changed), SECRET, NOW)).code).to.equal('subscription.link_invalid');
    }
  });

  it('rejects a token signed with another secret or for another purpose, a flipped signature character and malformed tokens', () => {
    const token = signLink(claims, SECRET);
    // A genuine token of another kind (an unsubscribe link) signed with the same secret.
    const unsubscribe = unsubscribeToken(SECRET, { customerId: claims.enrollmentId, topic: 'news_releases' });
    expect(errorOf(() => verifyLink(unsubscribe, SECRET, NOW)).code).to.equal('subscription.link_invalid');
    expect(errorOf(() => verifyLink(token, `${SECRET}x`, NOW)).code).to.equal('subscription.link_invalid');
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    expect(errorOf(() => verifyLink(`${token.slice(0, -1)}${last}`, SECRET, NOW)).code).to.equal('subscription.link_invalid');
    for (const bad of ['', 'v1', 'v1..', `x${token}`, `${token}.extra`, 'x'.repeat(600)]) {
      expect(errorOf(() => verifyLink(bad, SECRET, NOW)).kind, bad.slice(0, 20)).to.equal('forbidden');
    }
  });

  it('refuses a genuine token at and after its expiry with its own code', () => {
    const token = signLink(claims, SECRET);
    expect(verifyLink(token, SECRET, new Date(claims.expiresAt.getTime() - 1000)).action).to.equal('skip');
    const expired = errorOf(() => verifyLink(token, SECRET, claims.expiresAt));
    expect(expired.code).to.equal('subscription.link_expired');
    expect(expired.kind).to.equal('rule');
  });

  it('refuses to sign an unknown action', () => {
    expect(() => signLink({ ...claims, action: 'refund' as never }, SECRET)).to.throw(TypeError);
  });
});
