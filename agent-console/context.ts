import type { Server } from 'socket.io';
import type { Services } from '../api/services.ts';
import type { Logger } from '../platform/logger.ts';
import type { Emitter } from './emit.ts';

/** What every socket handler module of the console gets. */
export interface ConsoleContext {
  io: Server;
  services: Services;
  emit: Emitter;
  logger: Logger;
  /** Check acks against the contract (development and test). */
  validateAcks: boolean;
  /** A staff user's display name (cached). */
  displayName(staffUserId: string): Promise<string>;
}

export const staffRoom = (staffUserId: string) => `staff:${staffUserId}`;
export const chatRoom = (sessionId: string) => `chat:${sessionId}`;
export const FLOOR_ROOM = 'floor';
export const SUPERVISORS_ROOM = 'supervisors';
