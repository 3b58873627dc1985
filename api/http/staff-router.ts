import { Router, type RequestHandler } from 'express';
import type { Permission } from '../staff/permissions.ts';
import type { createStaffGuard } from './auth.ts';

export interface StaffRouteSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Full path as mounted, e.g. `/api/staff/customers/:customerId`. */
  path: string;
  permission: Permission;
}

type Guard = ReturnType<typeof createStaffGuard>;

/**
 * Staff routes can only be declared with a permission: the router records each (method, path,
 * permission) so the permission-matrix test walks every staff route with every role.
 */
export class StaffRouter {
  readonly router = Router();
  readonly routes: StaffRouteSpec[] = [];

  private readonly guard: Guard;
  private readonly mountPath: string;

  constructor(guard: Guard, mountPath: string) {
    this.guard = guard;
    this.mountPath = mountPath;
  }

  private add(method: StaffRouteSpec['method'], path: string, permission: Permission, handlers: RequestHandler[]) {
    this.routes.push({ method, path: `${this.mountPath}${path}`, permission });
    this.router[method](path, ...this.guard.requirePermission(permission), ...handlers);
    return this;
  }
  get(path: string, permission: Permission, ...handlers: RequestHandler[]) {
    return this.add('get', path, permission, handlers);
  }
  post(path: string, permission: Permission, ...handlers: RequestHandler[]) {
    return this.add('post', path, permission, handlers);
  }
  put(path: string, permission: Permission, ...handlers: RequestHandler[]) {
    return this.add('put', path, permission, handlers);
  }
  patch(path: string, permission: Permission, ...handlers: RequestHandler[]) {
    return this.add('patch', path, permission, handlers);
  }
  delete(path: string, permission: Permission, ...handlers: RequestHandler[]) {
    return this.add('delete', path, permission, handlers);
  }
}
