import { z } from 'zod';
import { freeText } from '../http/free-text.ts';
import { STAFF_ROLES } from './permissions.ts';

/**
 * Public shapes of staff accounts and sessions, shared by the API and the console.
 * No Node imports here.
 */

export const STAFF_STATUSES = ['active', 'suspended'] as const;
export type StaffStatus = (typeof STAFF_STATUSES)[number];

export const staffRoleSchema = z.enum(STAFF_ROLES);

/** Unique, lowercase user ids (PIA F: unique user IDs); shared accounts like "frontdesk" are a policy matter. */
export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z][a-z0-9._-]{2,39}$/, 'expected 3-40 characters: a letter, then letters, digits, dot, dash or underscore');

export const passwordSchema = z
  .string()
  .min(12, 'at least 12 characters')
  .max(256, 'at most 256 characters');

export const staffUserIdSchema = z.string().regex(/^[0-9a-f]{24}$/, 'expected a staff user id');

export const loginSchema = z.strictObject({
  // Not validated against usernameSchema: a malformed name must fail like any unknown name.
  username: z.string().trim().toLowerCase().min(1).max(100),
  password: z.string().min(1).max(1024),
  totpCode: z
    .string()
    .trim()
    .regex(/^\d{6}$/, 'expected the 6-digit code from the authenticator app')
    .optional(),
});
export type LoginInput = z.infer<typeof loginSchema>;

export const createStaffUserSchema = z.strictObject({
  username: usernameSchema,
  displayName: freeText(100, { min: 1 }),
  email: z.email().max(254),
  role: staffRoleSchema,
  password: passwordSchema,
});
export type CreateStaffUserInput = z.infer<typeof createStaffUserSchema>;

export const changeRoleSchema = z.strictObject({ role: staffRoleSchema });

/** Reasons are codes, not free text: the reason goes to the audit log and the console event. */
export const SUSPENSION_REASONS = ['left_company', 'role_change', 'security_incident', 'leave_of_absence', 'policy_violation', 'other'] as const;
export const suspendSchema = z.strictObject({ reason: z.enum(SUSPENSION_REASONS).default('other') });

export const setPasswordSchema = z.strictObject({ password: passwordSchema });
export const changeOwnPasswordSchema = z.strictObject({ currentPassword: z.string().min(1).max(1024), newPassword: passwordSchema });

export const staffUserParamsSchema = z.object({ staffUserId: staffUserIdSchema });

export interface StaffUserView {
  id: string;
  username: string;
  displayName: string;
  email: string;
  role: z.infer<typeof staffRoleSchema>;
  status: StaffStatus;
  totpEnrolled: boolean;
  /** ISO time until which logons are refused after repeated failures, or null. */
  lockedUntil: string | null;
  createdAt: string;
  createdBy: string;
  suspendedAt: string | null;
}

export interface LoginResult {
  /** Bearer token; shown once, only its hash is stored. */
  token: string;
  /** Absolute end of the session (ISO); it also ends after `idleTimeoutMinutes` without use. */
  expiresAt: string;
  idleTimeoutMinutes: number;
  user: StaffUserView;
}

export interface CreatedStaffUser {
  user: StaffUserView;
  /** otpauth:// URI to scan, returned once when the role needs a second factor. */
  totpUri?: string;
}
