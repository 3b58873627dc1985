import { z } from 'zod';
import { AgentState } from './agents.ts';
import { ChatTopic, IsoDateTime, StaffUserId, TaskChannel, Uuid } from './tasks.ts';

/** The supervisor's floor: agents, queues per channel, chats in progress. Browser-safe. */

/** Service level: the share of tasks answered within this many seconds... */
export const SERVICE_LEVEL_THRESHOLD_SECONDS = 20;
/** ...over this window (answered + abandoned in the window is the denominator). */
export const SERVICE_LEVEL_WINDOW_MINUTES = 30;

export const QueueStats = z.object({
  channel: TaskChannel,
  waiting: z.number().int().min(0),
  /** Seconds the oldest waiting task has waited (0 when none waits). */
  longestWaitSeconds: z.number().int().min(0),
  /** Answered within 20 s / (answered + abandoned) over the last 30 minutes; null with no traffic. */
  serviceLevel: z.number().min(0).max(1).nullable(),
  answered: z.number().int().min(0),
  answeredWithinThreshold: z.number().int().min(0),
  abandoned: z.number().int().min(0),
  /** Abandoned / (answered + abandoned) over the window; null with no traffic. */
  abandonmentRate: z.number().min(0).max(1).nullable(),
  /** Mean handle time (assigned to wrap-up done) of recent tasks; null before any. */
  averageHandleSeconds: z.number().int().min(0).nullable(),
  /** What a newcomer would wait now. */
  expectedWaitSeconds: z.number().int().min(0),
  agentsAvailable: z.number().int().min(0),
});
export type QueueStats = z.infer<typeof QueueStats>;

export const FloorChat = z.object({
  sessionId: Uuid,
  taskId: Uuid,
  state: z.enum(['waiting', 'active']),
  agent: z.object({ staffUserId: StaffUserId, displayName: z.string() }).nullable(),
  visitorFirstName: z.string(),
  topic: ChatTopic,
  startedAt: IsoDateTime,
  lastMessageAt: IsoDateTime.nullable(),
});
export type FloorChat = z.infer<typeof FloorChat>;

export const FloorSnapshot = z.object({
  at: IsoDateTime,
  agents: z.array(AgentState),
  queues: z.array(QueueStats),
  chats: z.array(FloorChat),
});
export type FloorSnapshot = z.infer<typeof FloorSnapshot>;

/** Incremental updates after the snapshot: replace the row with the same key, or remove it. */
export const FloorAgentUpdate = z.object({ agent: AgentState });
export const FloorQueueUpdate = z.object({ queue: QueueStats });
export const FloorChatUpdate = z.discriminatedUnion('op', [
  z.object({ op: z.literal('upsert'), chat: FloorChat }),
  z.object({ op: z.literal('remove'), sessionId: Uuid }),
]);
