import type { z } from 'zod';
import { ForbiddenError, parseOrThrow } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { normaliseError } from '../api/http/errors.ts';
import { roleHas, type Permission } from '../api/staff/permissions.ts';
import type { Principal } from '../api/http/principal.ts';

/** Every socket event is acknowledged with one of these: the socket face of the error family. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string; fields?: { path: string; code: string; message: string }[] } };

export function toAck(error: unknown): Ack<never> {
  const appError = normaliseError(error);
  return { ok: false, error: { code: appError.code, message: appError.message, ...(appError.fields?.length ? { fields: appError.fields } : {}) } };
}

type AckCallback = (ack: Ack<unknown>) => void;

/**
 * Declares a socket event handler the way StaffRouter declares a route: with the permission it
 * needs and the zod schema of its payload. A handler can only be registered through this, so no
 * event skips the permission check or the validation.
 */
export function onEvent<S extends z.ZodType, R>(
  socket: { data: { principal?: Principal }; on(event: string, listener: (...args: unknown[]) => void): unknown },
  event: string,
  permission: Permission,
  schema: S,
  handler: (payload: z.infer<S>, principal: Extract<Principal, { type: 'staff' }>) => Promise<R>,
  logger: Logger,
): void {
  socket.on(event, async (...args: unknown[]) => {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as AckCallback) : undefined;
    try {
      const principal = socket.data.principal;
      if (principal?.type !== 'staff' || !roleHas(principal.role, permission)) throw new ForbiddenError('staff.forbidden', 'Your role does not allow this.');
      const data = await handler(parseOrThrow(schema, args[0] ?? {}), principal);
      callback?.({ ok: true, data });
    } catch (error) {
      const ack = toAck(error);
      if (!ack.ok && ack.error.code === 'internal_error') logger.error({ err: error, event }, 'socket event failed');
      callback?.(ack);
    }
  });
}
