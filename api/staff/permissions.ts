/**
 * The permission matrix, in one place (PIA F.2-F.4: least privilege, need to know). Routes and
 * socket namespaces name a permission, never a role, so a role's reach is read here and only here.
 */
export const STAFF_ROLES = ['csr', 'supervisor', 'fraud_analyst', 'admin', 'auditor'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

const MATRIX = {
  // Customers and their orders: the people who serve them.
  'customers:read': ['csr', 'supervisor', 'admin'],
  'customers:write': ['csr', 'supervisor', 'admin'],
  'orders:read': ['csr', 'supervisor', 'fraud_analyst', 'admin'],
  'orders:place_phone': ['csr', 'supervisor'],
  'orders:cancel': ['csr', 'supervisor', 'admin'],
  'orders:fulfil': ['admin'],
  // Fraud review is its own trade; admins own the rules but do not decide cases.
  'fraud:review': ['fraud_analyst'],
  'fraud:rules_manage': ['admin'],
  // Telephony and chat.
  'calls:read': ['csr', 'supervisor', 'admin'],
  'calls:accept': ['csr', 'supervisor'],
  'callbacks:handle': ['csr', 'supervisor'],
  'chat:handle': ['csr', 'supervisor'],
  'chat:monitor': ['supervisor'],
  // Tasks (agent console): working one's own desk, and the supervisor's floor (reassign, presence of others).
  'tasks:work': ['csr', 'supervisor', 'fraud_analyst'],
  'tasks:supervise': ['supervisor'],
  // Canned chat responses are managed by admins and used by whoever chats.
  'chat:canned_manage': ['admin'],
  'reports:read': ['supervisor', 'admin'],
  'ivr:manage': ['admin'],
  // Recordings (quality review) are supervisors' and auditors' business.
  'recordings:read': ['supervisor', 'auditor'],
  'recordings:score': ['supervisor'],
  // Platform administration.
  'catalog:manage': ['admin'],
  'subscriptions:manage': ['admin'],
  'staff:manage': ['admin'],
  'queues:manage': ['admin'],
  'mail:read': ['admin'],
  // Newsletter campaigns go to every subscriber of a topic at once: deliberately admin-only.
  'marketing:send': ['admin'],
  // The audit trail: read-only, and only for those who audit.
  'audit:read': ['auditor', 'admin'],
} as const satisfies Record<string, readonly StaffRole[]>;

export type Permission = keyof typeof MATRIX;
export const PERMISSIONS = Object.keys(MATRIX) as Permission[];

export function roleHas(role: StaffRole, permission: Permission): boolean {
  return (MATRIX[permission] as readonly StaffRole[]).includes(role);
}

export function permissionsOf(role: StaffRole): Permission[] {
  return PERMISSIONS.filter((permission) => roleHas(role, permission));
}

/** Socket.io namespaces of the console and what it takes to connect (events check their own). */
export const SOCKET_NAMESPACES = {
  '/agent': 'chat:handle',
  '/supervisor': 'chat:monitor',
  '/fraud': 'fraud:review',
  '/calls': 'calls:read',
} as const satisfies Record<string, Permission>;

/** Roles whose logon needs a TOTP second factor (PIA: privileged and oversight access). */
export const ROLES_REQUIRING_TOTP: readonly StaffRole[] = ['admin', 'auditor'];
