import { expect } from 'chai';
import { listUnsubscribeHeaders, unsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from '../../api/email/unsubscribe.ts';

const SECRET = 'a-test-secret-of-at-least-thirty-two-chars';
const CUSTOMER = '3f1c2a9e-8d7b-4c6a-9e5f-1a2b3c4d5e6f';

describe('unsubscribe links', () => {
  it('round-trips the customer and topic', () => {
    const token = unsubscribeToken(SECRET, { customerId: CUSTOMER, topic: 'news_releases' });
    expect(token).to.match(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyUnsubscribeToken(SECRET, token)).to.deep.equal({ customerId: CUSTOMER, topic: 'news_releases' });
  });

  it('gives each topic and customer its own token', () => {
    const a = unsubscribeToken(SECRET, { customerId: CUSTOMER, topic: 'news_releases' });
    const b = unsubscribeToken(SECRET, { customerId: CUSTOMER, topic: 'coins_online' });
    const c = unsubscribeToken(SECRET, { customerId: CUSTOMER.replace('3f1c', '3f1d'), topic: 'news_releases' });
    expect(new Set([a, b, c]).size).to.equal(3);
  });

  it('rejects a token whose signature or payload was changed, or that was signed with another secret', () => {
    const token = unsubscribeToken(SECRET, { customerId: CUSTOMER, topic: 'news_releases' });
    const [payload, signature] = token.split('.') as [string, string];
    const flipped = `${payload}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    expect(verifyUnsubscribeToken(SECRET, flipped)).to.equal(undefined);
    const payloadOf = (claims: Record<string, unknown>) => Buffer.from(JSON.stringify({ c: claims })).toString('base64url');
    expect(payloadOf({ customerId: CUSTOMER, topic: 'news_releases' })).to.equal(payload);
    // Someone else's customer id with my signature.
    expect(verifyUnsubscribeToken(SECRET, `${payloadOf({ customerId: CUSTOMER.replace('3f1c', '0000'), topic: 'news_releases' })}.${signature}`)).to.equal(undefined);
    // My customer id with another topic and my signature.
    expect(verifyUnsubscribeToken(SECRET, `${payloadOf({ customerId: CUSTOMER, topic: 'coins_online' })}.${signature}`)).to.equal(undefined);
    expect(verifyUnsubscribeToken(`${SECRET}x`, token)).to.equal(undefined);
  });

  it('rejects malformed tokens without throwing', () => {
    const unknownTopic = Buffer.from(JSON.stringify({ c: { customerId: CUSTOMER, topic: 'everything' } })).toString('base64url');
    for (const bad of ['', '.', 'abc', 'abc.def', `${unknownTopic}.${'A'.repeat(43)}`, `${'A'.repeat(400)}.${'A'.repeat(43)}`, 'a.b.c', '../../etc/passwd']) {
      expect(verifyUnsubscribeToken(SECRET, bad), bad).to.equal(undefined);
    }
  });

  it('builds the link and well-formed RFC 8058 headers', () => {
    const token = unsubscribeToken(SECRET, { customerId: CUSTOMER, topic: 'news_releases' });
    const url = unsubscribeUrl('https://store.example.com/', token);
    expect(url).to.equal(`https://store.example.com/api/email/unsubscribe/${token}`);
    const headers = listUnsubscribeHeaders({ url, mailto: { address: 'service@store.example.com', subject: 'unsubscribe news_releases' } });
    expect(headers['List-Unsubscribe']).to.equal(`<${url}>, <mailto:service@store.example.com?subject=unsubscribe%20news_releases>`);
    expect(headers['List-Unsubscribe']).to.match(/^<https?:\/\/[^<>\s]+>(, <mailto:[^<>\s]+>)?$/);
    expect(headers['List-Unsubscribe-Post']).to.equal('List-Unsubscribe=One-Click');
    expect(listUnsubscribeHeaders({ url })['List-Unsubscribe']).to.equal(`<${url}>`);
  });
});

describe('unsubscribe tokens: canonical encoding only', () => {
  it('refuses a token whose last character differs only in unused bits', () => {
    const token = unsubscribeToken(SECRET, { customerId: CUSTOMER, topic: 'news_releases' });
    const last = token.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(verifyUnsubscribeToken(SECRET, token)).to.not.equal(undefined);
    expect(verifyUnsubscribeToken(SECRET, `${token.slice(0, -1)}${sibling}`)).to.equal(undefined);
  });
});
