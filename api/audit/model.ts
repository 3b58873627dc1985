import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { AUDIT_OUTCOMES, type AuditDetails, type AuditOutcome } from './schema.ts';

export interface AuditEntryDoc {
  _id: Types.ObjectId;
  seq: number;
  at: Date;
  actor: { type: 'staff' | 'customer' | 'system'; id: string; username?: string | null; role?: string | null };
  action: string;
  resource: { type: string; id?: string | null };
  outcome: AuditOutcome;
  ip?: string | null;
  details?: AuditDetails | null;
  prevHash: string;
  hash: string;
  /** HMAC-SHA256 of hash under a key derived from AUDIT_HMAC_KEY (chain.ts). */
  mac?: string | null;
}

const auditEntrySchema: Schema = new Schema(
  {
    seq: { type: Number, required: true },
    at: { type: Date, required: true },
    actor: {
      type: { type: String, required: true, enum: ['staff', 'customer', 'system'] },
      id: { type: String, required: true },
      username: { type: String },
      role: { type: String },
    },
    action: { type: String, required: true },
    resource: {
      type: { type: String, required: true },
      id: { type: String },
    },
    outcome: { type: String, required: true, enum: AUDIT_OUTCOMES },
    ip: { type: String },
    details: { type: Schema.Types.Mixed },
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
    mac: { type: String },
  },
  // minimize off: an empty object inside details must read back exactly as it was hashed.
  { collection: 'audit_entries', versionKey: false, minimize: false, strict: 'throw' },
);
// The unique seq is what orders the chain across processes: two appenders cannot both take seq n.
auditEntrySchema.index({ seq: 1 }, { unique: true });
auditEntrySchema.index({ at: 1 });
auditEntrySchema.index({ 'actor.id': 1, seq: -1 });
auditEntrySchema.index({ 'resource.type': 1, 'resource.id': 1, seq: -1 });
auditEntrySchema.index({ action: 1, seq: -1 });

export function auditModel(conn: Connection): Model<AuditEntryDoc> {
  return (conn.models.AuditEntry as Model<AuditEntryDoc> | undefined) ?? conn.model<AuditEntryDoc>('AuditEntry', auditEntrySchema as unknown as Schema<AuditEntryDoc>);
}
