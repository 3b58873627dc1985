import type { StaffRole } from '../staff/permissions.ts';

/** Who is acting: staff (role-scoped), a customer (owner-scoped), or the system itself (workers, IVR). */
export type Principal =
  | { type: 'staff'; staffUserId: string; username: string; role: StaffRole; sessionId: string; ip: string | undefined }
  | { type: 'customer'; customerId: string; sessionId: string; ip: string | undefined }
  | { type: 'system'; component: string };

export function actorLabel(principal: Principal): string {
  if (principal.type === 'staff') return `staff:${principal.username}`;
  if (principal.type === 'customer') return `customer:${principal.customerId}`;
  return `system:${principal.component}`;
}
