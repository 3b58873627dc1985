import { z } from 'zod';
import { Language, Skill, TaskChannel, TaskPriority, TaskSummary } from '../console-contract/tasks.ts';

/**
 * Tasks' shapes: the console contract (api/console-contract) is the one definition shared with
 * the browser; this file adds what only the server takes. Zod only.
 */
export * from '../console-contract/tasks.ts';
export { Presence, PRESENCES, Capacity, AgentProfile, AgentState, AgentConfigureRequest } from '../console-contract/agents.ts';

/** What a source (chat, IVR, fraud) hands to the task service. */
export const NewTask = z.strictObject({
  source: z.strictObject({ kind: z.string().regex(/^[a-z_]{2,20}$/), ref: z.string().min(1).max(120) }),
  /** Unique per task; a repeat returns the existing task. Defaults to `${kind}:${ref}`. */
  sourceKey: z.string().min(1).max(200).optional(),
  channel: TaskChannel,
  priority: TaskPriority.default(5),
  language: Language.default('en'),
  requiredSkills: z.array(Skill).max(10).default([]),
  summary: TaskSummary,
});
export type NewTask = z.input<typeof NewTask>;
