import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { z } from 'zod';
import type { Ack, ClientEventMap, ServerEventMap } from '../../../api/console-contract/events.ts';

/**
 * The one place the console and the widget talk socket.io: every event sent is checked against
 * the contract's payload schema first, every ack and every received event is parsed with the
 * contract's schema (a payload that does not match is dropped and reported, never half-used).
 */

export class RequestError extends Error {
  readonly code: string;
  readonly fields: { path: string; code: string; message: string }[];
  constructor(code: string, message: string, fields: { path: string; code: string; message: string }[] = []) {
    super(message);
    this.name = 'RequestError';
    this.code = code;
    this.fields = fields;
  }
}

export interface TypedSocket<C extends ClientEventMap, S extends ServerEventMap> {
  readonly raw: Socket;
  request<K extends keyof C & string>(event: K, payload?: z.input<C[K]['payload']>, timeoutMs?: number): Promise<z.output<C[K]['ack']>>;
  on<K extends keyof S & string>(event: K, handler: (payload: z.output<S[K]>) => void): () => void;
  close(): void;
}

export function connectSocket<C extends ClientEventMap, S extends ServerEventMap>(
  namespace: string,
  maps: { client: C; server: S },
  options: { auth: Record<string, unknown> | ((cb: (data: object) => void) => void) } & Partial<ManagerOptions & SocketOptions>,
): TypedSocket<C, S> {
  const raw = io(namespace, { path: '/socket.io', transports: ['websocket'], ...options });
  return {
    raw,
    request(event, payload, timeoutMs = 15_000) {
      const spec = maps.client[event]!;
      const parsed = spec.payload.safeParse(payload ?? {});
      if (!parsed.success) {
        const fields = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), code: issue.code, message: issue.message }));
        return Promise.reject(new RequestError('validation_failed', fields[0]?.message ?? 'Check the form.', fields));
      }
      return new Promise((resolve, reject) => {
        raw.timeout(timeoutMs).emit(event, parsed.data, (timeoutError: Error | null, ack: Ack<unknown>) => {
          if (timeoutError) return reject(new RequestError('timeout', 'No answer from the server; check your connection and try again.'));
          if (!ack || typeof ack !== 'object') return reject(new RequestError('bad_ack', 'The server sent an answer the console does not understand.'));
          if (!ack.ok) return reject(new RequestError(ack.error.code, ack.error.message, ack.error.fields ?? []));
          const data = spec.ack.safeParse(ack.data);
          if (!data.success) {
            console.error(`ack of ${event} does not match the contract`, data.error.issues);
            return reject(new RequestError('bad_ack', 'The server sent an answer the console does not understand.'));
          }
          resolve(data.data as never);
        });
      });
    },
    on(event, handler) {
      const schema = maps.server[event]!;
      const listener = (payload: unknown) => {
        const parsed = schema.safeParse(payload);
        if (!parsed.success) {
          console.error(`event ${event} does not match the contract`, parsed.error.issues);
          return;
        }
        handler(parsed.data as never);
      };
      raw.on(event as string, listener);
      return () => void raw.off(event as string, listener);
    },
    close() {
      raw.removeAllListeners();
      raw.disconnect();
    },
  };
}
