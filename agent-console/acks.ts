import type { z } from 'zod';
import { AppError, ForbiddenError, parseOrThrow } from '../platform/errors.ts';
import type { ClientEventMap } from '../api/console-contract/events.ts';
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

type StaffPrincipal = Extract<Principal, { type: 'staff' }>;
type SocketLike = { data: { principal?: Principal; sessionId?: string }; on(event: string, listener: (...args: unknown[]) => void): unknown };

/**
 * A staff event from the contract (api/console-contract/events.ts): permission, payload schema
 * and ack schema come from the map, so a handler cannot disagree with what the clients were told.
 * With `validateAcks` (development and test) the ack data is checked against its schema too: a
 * server that answers something else fails loudly instead of confusing the console.
 */
export function onContractEvent<M extends ClientEventMap, K extends keyof M & string>(
  socket: SocketLike,
  map: M,
  event: K,
  handler: (payload: z.output<M[K]['payload']>, principal: StaffPrincipal) => Promise<z.input<M[K]['ack']>>,
  options: { logger: Logger; validateAcks: boolean; namespacePermission: Permission },
): void {
  const definition = map[event]!;
  onEvent(
    socket,
    event,
    definition.permission ?? options.namespacePermission,
    definition.payload,
    async (payload, principal) => checkAck(definition.ack, await handler(payload as z.output<M[K]['payload']>, principal), event, options),
    options.logger,
  );
}

/** The shopper's events: no staff principal, the socket's chat session instead (set by the namespace's handshake). */
export function onShopperEvent<M extends ClientEventMap, K extends keyof M & string>(
  socket: SocketLike,
  map: M,
  event: K,
  handler: (payload: z.output<M[K]['payload']>, sessionId: string) => Promise<z.input<M[K]['ack']>>,
  options: { logger: Logger; validateAcks: boolean },
): void {
  const definition = map[event]!;
  socket.on(event, async (...args: unknown[]) => {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as AckCallback) : undefined;
    try {
      const sessionId = socket.data.sessionId;
      if (!sessionId) throw new ForbiddenError('chat.forbidden', 'This chat is not yours.');
      const data = await handler(parseOrThrow(definition.payload, args[0] ?? {}) as z.output<M[K]['payload']>, sessionId);
      callback?.({ ok: true, data: checkAck(definition.ack, data, event, options) });
    } catch (error) {
      const ack = toAck(error);
      if (!ack.ok && ack.error.code === 'internal_error') options.logger.error({ err: error, event }, 'chat socket event failed');
      callback?.(ack);
    }
  });
}

function checkAck(schema: z.ZodType, data: unknown, event: string, options: { logger: Logger; validateAcks: boolean }): unknown {
  if (!options.validateAcks) return data;
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  options.logger.error({ event, issues: result.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`) }, 'socket ack does not match the contract');
  throw new AppError('internal', 'internal_error', 'The server answered something unexpected.');
}
