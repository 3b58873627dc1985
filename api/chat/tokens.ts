import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The visitor's chat-session token: `<sessionId>.<expiry ms>.<hmac>`. It is the only credential of
 * the public /chat namespace, so it names one session and nothing else, and expires.
 */
const sign = (secret: string, sessionId: string, expires: number) => createHmac('sha256', secret).update(`chat-session:${sessionId}:${expires}`).digest('base64url');

export function issueChatToken(secret: string, sessionId: string, expires: Date): string {
  const at = expires.getTime();
  return `${sessionId}.${at}.${sign(secret, sessionId, at)}`;
}

/** The session id, if the token is genuine and not expired. */
export function verifyChatToken(secret: string, token: string, now: Date): string | undefined {
  const [sessionId, expires, mac] = token.split('.');
  if (!sessionId || !expires || !mac || !/^\d+$/.test(expires)) return undefined;
  const expected = Buffer.from(sign(secret, sessionId, Number(expires)));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  if (Number(expires) < now.getTime()) return undefined;
  return sessionId;
}
