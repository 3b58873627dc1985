import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../../platform/errors.ts';

/**
 * Visitor identities for the waiting room: random ids we sign, so a visitor cannot mint ids to
 * enter the launch lottery many times (they can still clear storage, which costs their place).
 */
export function createVisitorTokens(secret: string) {
  const sign = (id: string) => createHmac('sha256', secret).update(`mintdesk.visitor.v1.${id}`).digest('base64url').slice(0, 32);
  const parse = (token: string | undefined): string | undefined => {
    if (!token) return undefined;
    const [id, signature] = token.split('.');
    if (!id || !signature || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) return undefined;
    const expected = Buffer.from(sign(id));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given) ? id : undefined;
  };
  return {
    /** The caller's identity, or a new one when the token is missing or forged. */
    resolve(token: string | undefined): { id: string; token: string } {
      const existing = parse(token);
      const id = existing ?? randomBytes(16).toString('base64url');
      return { id, token: `${id}.${sign(id)}` };
    },
    verify(token: string | undefined): string {
      const id = parse(token);
      if (!id) throw new ValidationError('Join the waiting room first.', [{ path: 'X-Visitor-Token', code: 'invalid', message: 'Missing or invalid visitor token.' }], 'waiting_room.visitor_invalid');
      return id;
    },
  };
}
