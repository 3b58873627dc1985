import { signal, type Signal } from '@preact/signals';
import type { ClientEventMap, ServerEventMap } from '../../../api/console-contract/events.ts';
import { connectSocket, type TypedSocket } from '../lib/socket.ts';
import { endSession, session } from './session.ts';

export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'refused';

export interface StaffSocket<C extends ClientEventMap, S extends ServerEventMap> extends TypedSocket<C, S> {
  state: Signal<ConnectionState>;
}

const SESSION_ENDING_CODES = new Set(['staff.unauthenticated', 'staff.session_invalid']);

/**
 * A staff namespace socket for the current session. The server drops it with `session-ended`
 * (idle timeout, sign-out elsewhere, suspension): the screen is cleared at once. socket.io
 * reconnects by itself after a network blip, with the same token.
 */
export function openStaffSocket<C extends ClientEventMap, S extends ServerEventMap>(namespace: string, maps: { client: C; server: S }): StaffSocket<C, S> {
  const token = session.value?.token;
  const state = signal<ConnectionState>('connecting');
  const socket = connectSocket(namespace, maps, { auth: { token } });
  socket.raw.on('connect', () => {
    state.value = 'online';
  });
  socket.raw.on('disconnect', (reason) => {
    // "io server disconnect": the server dropped us on purpose (session-ended arrives first).
    state.value = reason === 'io server disconnect' ? 'refused' : 'reconnecting';
  });
  socket.raw.on('connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
    const code = error.data?.code;
    if (code && SESSION_ENDING_CODES.has(code)) {
      state.value = 'refused';
      if (session.value?.token === token) endSession('session_expired');
      return;
    }
    if (code === 'staff.forbidden') {
      state.value = 'refused';
      return;
    }
    state.value = 'reconnecting';
  });
  socket.raw.on('session-ended', (payload: { reason?: string }) => {
    if (session.value?.token === token) endSession(typeof payload?.reason === 'string' ? payload.reason : 'session_expired');
  });
  return Object.assign(socket, { state });
}
