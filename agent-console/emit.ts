import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { Logger } from '../platform/logger.ts';
import { NAMESPACES, type NamespaceName } from '../api/console-contract/events.ts';

type ServerMapOf<N extends NamespaceName> = (typeof NAMESPACES)[N]['server'];
export type ServerEventOf<N extends NamespaceName> = keyof ServerMapOf<N> & string;
export type ServerPayload<N extends NamespaceName, E extends ServerEventOf<N>> = z.input<ServerMapOf<N>[E] & z.ZodType>;

/**
 * Every server-to-client emit goes through here, typed by the contract's map for the namespace.
 * In development and test each payload is parsed with its schema first; one that does not match
 * is not sent and is logged (and counted, so tests can assert none happened). Production sends
 * without re-checking: what is sent was built from validated data.
 */
export interface Emitter {
  /** To rooms of a namespace, across every process (the Redis adapter). */
  to<N extends NamespaceName, E extends ServerEventOf<N>>(namespace: N, rooms: string | string[], event: E, payload: ServerPayload<N, E>): void;
  /** To rooms of a namespace on this process only (periodic refreshes every process sends to its own sockets). */
  local<N extends NamespaceName, E extends ServerEventOf<N>>(namespace: N, rooms: string | string[], event: E, payload: ServerPayload<N, E>): void;
  socket<N extends NamespaceName, E extends ServerEventOf<N>>(namespace: N, socket: Socket, event: E, payload: ServerPayload<N, E>): void;
  invalidCount(): number;
}

export function createEmitter(io: Server, options: { validate: boolean; logger: Logger }): Emitter {
  let invalid = 0;
  function check<N extends NamespaceName>(namespace: N, event: string, payload: unknown): { ok: true; value: unknown } | { ok: false } {
    if (!options.validate) return { ok: true, value: payload };
    const schema = (NAMESPACES[namespace].server as Record<string, z.ZodType>)[event];
    if (!schema) {
      invalid += 1;
      options.logger.error({ namespace, event }, 'socket event not in the contract; not sent');
      return { ok: false };
    }
    const result = schema.safeParse(payload);
    if (result.success) return { ok: true, value: result.data };
    invalid += 1;
    options.logger.error({ namespace, event, issues: result.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`) }, 'socket event payload does not match the contract; not sent');
    return { ok: false };
  }
  return {
    to(namespace, rooms, event, payload) {
      const checked = check(namespace, event, payload);
      if (checked.ok) io.of(namespace).to(rooms).emit(event, checked.value);
    },
    local(namespace, rooms, event, payload) {
      const checked = check(namespace, event, payload);
      if (checked.ok) io.of(namespace).local.to(rooms).emit(event, checked.value);
    },
    socket(namespace, socket, event, payload) {
      const checked = check(namespace, event, payload);
      if (checked.ok) socket.emit(event, checked.value);
    },
    invalidCount: () => invalid,
  };
}
