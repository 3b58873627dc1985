import { z } from 'zod';

/**
 * Public shapes of the waiting room, shared by the API, the storefront bundle and the console.
 * No Node imports here.
 */

export const waitingRoomStateSchema = z.enum(['waiting', 'admitted', 'not_open', 'unknown']);
export type WaitingRoomState = z.infer<typeof waitingRoomStateSchema>;

/**
 * What a visitor polls. `position` is the 1-based place in line and never changes once the room
 * is open; before opening the early arrivals' order is still being drawn, so position, aheadOfYou
 * are null and estimatedWaitSeconds counts down to the opening.
 */
export const waitingRoomStatusSchema = z.strictObject({
  state: waitingRoomStateSchema,
  position: z.number().int().min(1).nullable(),
  /** Visitors ahead who have not been admitted yet. */
  aheadOfYou: z.number().int().min(0).nullable(),
  estimatedWaitSeconds: z.number().int().min(0).nullable(),
  /** ISO time the room opens; null when the room is unknown. */
  opensAt: z.iso.datetime().nullable(),
  /** Present only when admitted: checkout requires it while the room guards the sku. */
  admissionToken: z.string().min(1).optional(),
  /** ISO expiry of admissionToken; polling status again issues a fresh one. */
  admissionExpiresAt: z.iso.datetime().optional(),
});
export type WaitingRoomStatus = z.infer<typeof waitingRoomStatusSchema>;

export const waitingRoomStatsSchema = z.strictObject({
  roomId: z.string(),
  opensAt: z.iso.datetime(),
  admitPerSecond: z.number().positive(),
  open: z.boolean(),
  /** Everyone in line, admitted or not. */
  joined: z.number().int().min(0),
  /** Joined before opening and placed by lottery. */
  earlyArrivals: z.number().int().min(0),
  admitted: z.number().int().min(0),
  waiting: z.number().int().min(0),
});
export type WaitingRoomStats = z.infer<typeof waitingRoomStatsSchema>;
