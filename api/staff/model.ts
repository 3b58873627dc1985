import { Schema, type Connection, type InferSchemaType, type Model, type Types } from 'mongoose';
import { STAFF_ROLES } from './permissions.ts';
import { STAFF_STATUSES } from './schema.ts';

const staffUserSchema = new Schema(
  {
    username: { type: String, required: true, lowercase: true, trim: true },
    displayName: { type: String, required: true },
    email: { type: String, required: true },
    role: { type: String, required: true, enum: STAFF_ROLES },
    status: { type: String, required: true, enum: STAFF_STATUSES, default: 'active' },
    /** scrypt hash with its own salt and parameters (password.ts). */
    passwordHash: { type: String, required: true },
    /**
     * Mirrors of the lockout state kept in Redis (the atomic counter lives there): the lock is
     * durable here, and admins see it in the user list.
     */
    failedLogins: { type: Number, required: true, default: 0 },
    lockedUntil: { type: Date, default: null },
    /** AES-256-GCM sealed base32 secret (totp.ts), bound to this user's id. */
    totpSecretSealed: { type: String, default: null },
    createdAt: { type: Date, required: true },
    /** Audit label of who created the account (`staff:alice`, `system:cli`). */
    createdBy: { type: String, required: true },
    suspendedAt: { type: Date, default: null },
    passwordChangedAt: { type: Date, default: null },
  },
  { collection: 'staff_users', versionKey: false },
);
staffUserSchema.index({ username: 1 }, { unique: true });

export type StaffUserDoc = InferSchemaType<typeof staffUserSchema> & { _id: Types.ObjectId };

const staffSessionSchema = new Schema(
  {
    /** sha256 of the bearer token: a database reader cannot replay sessions. */
    tokenHash: { type: String, required: true },
    staffUserId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
    /** Refreshed at most once a minute (write load), so idle time is measured to within a minute. */
    lastSeenAt: { type: Date, required: true },
    /** Absolute end of the session, whatever the activity. */
    expiresAt: { type: Date, required: true },
    revokedAt: { type: Date, default: null },
    revokedReason: { type: String, default: null },
    ip: { type: String, default: null },
  },
  { collection: 'staff_sessions', versionKey: false },
);
staffSessionSchema.index({ tokenHash: 1 }, { unique: true });
staffSessionSchema.index({ staffUserId: 1, revokedAt: 1 });

export type StaffSessionDoc = InferSchemaType<typeof staffSessionSchema> & { _id: Types.ObjectId };

export function staffUserModel(conn: Connection): Model<StaffUserDoc> {
  return (conn.models.StaffUser as Model<StaffUserDoc> | undefined) ?? conn.model<StaffUserDoc>('StaffUser', staffUserSchema as unknown as Schema<StaffUserDoc>);
}

export function staffSessionModel(conn: Connection): Model<StaffSessionDoc> {
  return (conn.models.StaffSession as Model<StaffSessionDoc> | undefined) ?? conn.model<StaffSessionDoc>('StaffSession', staffSessionSchema as unknown as Schema<StaffSessionDoc>);
}
