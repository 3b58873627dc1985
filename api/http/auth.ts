import type { Request, RequestHandler } from 'express';
import { AuthenticationError, ForbiddenError } from '../../platform/errors.ts';
import { roleHas, type Permission } from '../staff/permissions.ts';
import type { Principal } from './principal.ts';

export type Authenticator = (token: string, req: Request) => Promise<Principal | undefined>;

export function bearerToken(req: Request): string | undefined {
  const header = req.header('authorization');
  if (header?.startsWith('Bearer ')) return header.slice(7).trim() || undefined;
  return undefined;
}

/**
 * Every staff route goes through this with the permission it needs. A missing or ended session is
 * 401; a live session whose role lacks the permission is 403 (and the denial is audited by `onDenied`).
 */
export function createStaffGuard(options: {
  authenticate: Authenticator;
  onDenied?: (principal: Principal, permission: Permission, req: Request) => Promise<void>;
}) {
  const authenticateStaff: RequestHandler = async (req, _res, next) => {
    try {
      const token = bearerToken(req);
      if (!token) throw new AuthenticationError('staff.unauthenticated', 'Staff sign-in required.');
      const principal = await options.authenticate(token, req);
      if (!principal || principal.type !== 'staff') throw new AuthenticationError('staff.session_invalid', 'Your session has ended; sign in again.');
      req.principal = principal;
      next();
    } catch (error) {
      next(error);
    }
  };
  const requirePermission = (permission: Permission): RequestHandler[] => [
    authenticateStaff,
    async (req, _res, next) => {
      const principal = req.principal;
      if (principal?.type === 'staff' && roleHas(principal.role, permission)) return next();
      if (principal && options.onDenied) await options.onDenied(principal, permission, req).catch(() => undefined);
      next(new ForbiddenError('staff.forbidden', 'Your role does not allow this.'));
    },
  ];
  return { authenticateStaff, requirePermission };
}

export function createCustomerGuard(options: { authenticate: Authenticator }) {
  const requireCustomer: RequestHandler = async (req, _res, next) => {
    try {
      const token = bearerToken(req);
      const principal = token ? await options.authenticate(token, req) : undefined;
      if (!principal || principal.type !== 'customer') throw new AuthenticationError('customer.unauthenticated', 'Sign in to your account.');
      req.principal = principal;
      next();
    } catch (error) {
      next(error);
    }
  };
  /** Attaches the customer when a valid token is sent; guests pass through. */
  const optionalCustomer: RequestHandler = async (req, _res, next) => {
    try {
      const token = bearerToken(req);
      if (token) {
        const principal = await options.authenticate(token, req);
        if (principal?.type === 'customer') req.principal = principal;
      }
      next();
    } catch (error) {
      next(error);
    }
  };
  return { requireCustomer, optionalCustomer };
}

export function staffPrincipal(req: Request): Extract<Principal, { type: 'staff' }> {
  if (req.principal?.type !== 'staff') throw new AuthenticationError('staff.unauthenticated', 'Staff sign-in required.');
  return req.principal;
}
export function customerPrincipal(req: Request): Extract<Principal, { type: 'customer' }> {
  if (req.principal?.type !== 'customer') throw new AuthenticationError('customer.unauthenticated', 'Sign in to your account.');
  return req.principal;
}

export type StaffGuard = ReturnType<typeof createStaffGuard>;
export type CustomerGuard = ReturnType<typeof createCustomerGuard>;
export interface Guards {
  staff: StaffGuard;
  customer: CustomerGuard;
}
