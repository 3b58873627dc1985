import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from '../../platform/errors.ts';
import { createSignedTokens } from '../../platform/signed-tokens.ts';

const VisitorClaims = z.strictObject({ visitorId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/) });

/**
 * Visitor identities for the waiting room: random ids we sign, so a visitor cannot mint ids to
 * enter the launch lottery many times (they can still clear storage, which costs their place).
 * They do not expire: the place in line is the visitor's until the room closes.
 */
export function createVisitorTokens(secret: string) {
  const tokens = createSignedTokens(secret, { purpose: 'waiting-room-visitor', claims: VisitorClaims, maxLength: 256 });
  const parse = (token: string | undefined): string | undefined => {
    const verified = tokens.verify(token);
    return verified.status === 'valid' ? verified.claims.visitorId : undefined;
  };
  return {
    /** The caller's identity, or a new one when the token is missing or forged. */
    resolve(token: string | undefined): { id: string; token: string } {
      const id = parse(token) ?? randomBytes(16).toString('base64url');
      return { id, token: tokens.sign({ visitorId: id }) };
    },
    verify(token: string | undefined): string {
      const id = parse(token);
      if (!id) throw new ValidationError('Join the waiting room first.', [{ path: 'X-Visitor-Token', code: 'invalid', message: 'Missing or invalid visitor token.' }], 'waiting_room.visitor_invalid');
      return id;
    },
  };
}
