import { z } from 'zod';
import { IsoDateTime, Language, Skill, StaffUserId, TaskChannel, TaskState, Uuid } from './tasks.ts';

/** Agents (TaskRouter's workers): presence, capacity per channel, skills. Browser-safe. */

export const PRESENCES = ['available', 'break', 'offline'] as const;
export const Presence = z.enum(PRESENCES);
export type Presence = z.infer<typeof Presence>;

/** How many tasks of each channel an agent holds at once (0 = never routed that channel). */
export const Capacity = z.strictObject({
  chat: z.number().int().min(0).max(10),
  call: z.number().int().min(0).max(1),
  callback: z.number().int().min(0).max(3),
  message: z.number().int().min(0).max(10),
  fraud_review: z.number().int().min(0).max(5),
});
export type Capacity = z.infer<typeof Capacity>;

export const AgentProfile = z.object({
  staffUserId: StaffUserId,
  displayName: z.string(),
  role: z.string(),
  languages: z.array(Language).min(1).max(10),
  skills: z.array(Skill).max(20),
  capacity: Capacity,
});
export type AgentProfile = z.infer<typeof AgentProfile>;

export const AgentTaskRef = z.object({ taskId: Uuid, channel: TaskChannel, state: TaskState, since: IsoDateTime });

export const AgentState = AgentProfile.extend({
  presence: Presence,
  presenceSince: IsoDateTime,
  /** Since when the agent has had no task (null while holding one): routing prefers the longest idle. */
  idleSince: IsoDateTime.nullable(),
  /** Tasks held per channel (offers included, wrap-up included). */
  load: Capacity,
  tasks: z.array(AgentTaskRef),
});
export type AgentState = z.infer<typeof AgentState>;

export const AgentConfigureRequest = z.strictObject({
  staffUserId: StaffUserId,
  languages: z.array(Language).min(1).max(10).optional(),
  skills: z.array(Skill).max(20).optional(),
  capacity: Capacity.partial().optional(),
});
