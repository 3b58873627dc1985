import { Schema, type Connection, type Model } from 'mongoose';
import { TASK_CHANNELS, TASK_STATES, type Capacity, type TaskChannel, type TaskState, type TaskSummary } from './schema.ts';

/**
 * The durable side of tasks and agents. Routing state (who is offered what, loads, the queues)
 * lives in Redis (lua.ts); these records survive a Redis loss, feed reports, and let a restarted
 * deployment put still-open tasks back in the queue.
 */
export interface TaskDoc {
  _id: string;
  /** What the task stands for, e.g. `chat:<sessionId>`, `call:<callSid>`, `fraud:<orderId>`. */
  source: { kind: string; ref: string };
  /** Unique: a repeated domain event or a retried request never makes a second task. */
  sourceKey: string;
  channel: TaskChannel;
  priority: number;
  language: string;
  requiredSkills: string[];
  summary: TaskSummary;
  createdAt: Date;
  state: TaskState;
  stateSince: Date;
  assignee: string | null;
  assignedAt: Date | null;
  answeredAt: Date | null;
  offers: number;
  completedAt: Date | null;
  wrapUp: { disposition: string; notes: string; at: Date; seconds: number; by: string } | null;
  handleSeconds: number | null;
  /** Redis revision of the last state written here: an older write never overwrites a newer one. */
  rev: number;
  history: { at: Date; state: TaskState; staffUserId: string | null; note?: string }[];
}

const taskSchema = new Schema<TaskDoc>(
  {
    _id: { type: String, required: true },
    source: { type: Schema.Types.Mixed, required: true },
    sourceKey: { type: String, required: true, unique: true },
    channel: { type: String, enum: TASK_CHANNELS, required: true },
    priority: { type: Number, required: true },
    language: { type: String, required: true },
    requiredSkills: { type: [String], default: [] },
    summary: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
    state: { type: String, enum: TASK_STATES, required: true, index: true },
    stateSince: { type: Date, required: true },
    assignee: { type: String, default: null },
    assignedAt: { type: Date, default: null },
    answeredAt: { type: Date, default: null },
    offers: { type: Number, default: 0 },
    completedAt: { type: Date, default: null },
    wrapUp: { type: Schema.Types.Mixed, default: null },
    handleSeconds: { type: Number, default: null },
    rev: { type: Number, default: 1 },
    history: { type: Schema.Types.Mixed, default: [] },
  },
  { collection: 'tasks', versionKey: false },
);
taskSchema.index({ 'source.ref': 1 });

/** An agent's routing profile (presence and load are live state in Redis). */
export interface AgentProfileDoc {
  /** The staff user id. */
  _id: string;
  languages: string[];
  skills: string[];
  capacity: Capacity;
  updatedAt: Date;
  updatedBy: string;
}

const agentProfileSchema = new Schema<AgentProfileDoc>(
  {
    _id: { type: String, required: true },
    languages: { type: [String], required: true },
    skills: { type: [String], default: [] },
    capacity: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, required: true },
  },
  { collection: 'agent_profiles', versionKey: false },
);

function modelOn<T>(conn: Connection, name: string, schema: Schema<T>): Model<T> {
  return (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema);
}

export const taskModel = (conn: Connection) => modelOn(conn, 'Task', taskSchema);
export const agentProfileModel = (conn: Connection) => modelOn(conn, 'AgentProfile', agentProfileSchema);
