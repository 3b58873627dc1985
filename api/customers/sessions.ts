import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import type { CustomerSessionDoc } from './model.ts';

/**
 * Customer sign-in sessions, separate from staff sessions (their own collection and token prefix,
 * so a customer token can never pass the staff guard or the reverse).
 *
 * Bearer tokens are 32 random bytes; only their sha256 is stored. A session ends after 30 minutes
 * without a request (idle) or 7 days after sign-in (absolute), whichever comes first.
 */

export const CUSTOMER_TOKEN_PREFIX = 'mdc_';
export const DEFAULT_IDLE_MS = 30 * 60_000;
export const DEFAULT_ABSOLUTE_MS = 7 * 24 * 3_600_000;
// lastSeenAt is written at most this often: one write per minute per active customer, not per request.
const TOUCH_INTERVAL_MS = 60_000;

export interface IssuedSession {
  token: string;
  sessionId: string;
  expiresAt: Date;
  idleTimeoutSeconds: number;
}

export interface CustomerSessions {
  create(customerId: string): Promise<IssuedSession>;
  /** The live session of this token, refreshed; undefined when unknown, idle too long or past its end. */
  resolve(token: string): Promise<{ sessionId: string; customerId: string } | undefined>;
  end(sessionId: string): Promise<void>;
  /** Ends every session of the customer, optionally keeping the one in use. Returns how many ended. */
  endAllFor(customerId: string, options?: { except?: string }): Promise<number>;
  /** Deletes sessions past their absolute or idle end (there is no TTL index on FerretDB). */
  purgeExpired(): Promise<number>;
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export function createCustomerSessions(deps: { model: Model<CustomerSessionDoc>; clock: Clock; idleMs?: number; absoluteMs?: number }): CustomerSessions {
  const { model, clock } = deps;
  const idleMs = deps.idleMs ?? DEFAULT_IDLE_MS;
  const absoluteMs = deps.absoluteMs ?? DEFAULT_ABSOLUTE_MS;

  return {
    async create(customerId) {
      const now = clock();
      const token = `${CUSTOMER_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const sessionId = randomUUID();
      const expiresAt = new Date(now.getTime() + absoluteMs);
      await model.create({ _id: sessionId, tokenHash: hashToken(token), customerId, createdAt: now, lastSeenAt: now, expiresAt });
      return { token, sessionId, expiresAt, idleTimeoutSeconds: Math.round(idleMs / 1000) };
    },

    async resolve(token) {
      if (!token.startsWith(CUSTOMER_TOKEN_PREFIX) || token.length > 100) return undefined;
      const session = await model.findOne({ tokenHash: hashToken(token) }).lean<CustomerSessionDoc>();
      if (!session) return undefined;
      const now = clock().getTime();
      if (now >= session.expiresAt.getTime() || now - session.lastSeenAt.getTime() >= idleMs) {
        await model.deleteOne({ _id: session._id });
        return undefined;
      }
      if (now - session.lastSeenAt.getTime() >= TOUCH_INTERVAL_MS) {
        await model.updateOne({ _id: session._id }, { $set: { lastSeenAt: new Date(now) } });
      }
      return { sessionId: session._id, customerId: session.customerId };
    },

    async end(sessionId) {
      await model.deleteOne({ _id: sessionId });
    },

    async endAllFor(customerId, options = {}) {
      const filter = options.except ? { customerId, _id: { $ne: options.except } } : { customerId };
      const result = await model.deleteMany(filter);
      return result.deletedCount ?? 0;
    },

    async purgeExpired() {
      const now = clock().getTime();
      const result = await model.deleteMany({ $or: [{ expiresAt: { $lte: new Date(now) } }, { lastSeenAt: { $lte: new Date(now - idleMs) } }] });
      return result.deletedCount ?? 0;
    },
  };
}
