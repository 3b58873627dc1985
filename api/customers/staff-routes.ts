import { staffPrincipal, type createStaffGuard } from '../http/auth.ts';
import { StaffRouter } from '../http/staff-router.ts';
import type { CustomerService } from './service.ts';

export const CUSTOMER_STAFF_MOUNT = '/api/staff/customers';

/**
 * Staff lookup of customers by personal identifier (PIA D.8), never by card number. The service
 * audits every search, read and change before it returns data.
 */
export function customerStaffRouter(customers: CustomerService, guard: ReturnType<typeof createStaffGuard>): StaffRouter {
  const staff = new StaffRouter(guard, CUSTOMER_STAFF_MOUNT);
  staff.router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  staff.get('/', 'customers:read', async (req, res) => {
    res.json(await customers.staffSearch(staffPrincipal(req), req.query));
  });
  staff.get('/:customerId', 'customers:read', async (req, res) => {
    res.json(await customers.staffGet(staffPrincipal(req), String(req.params.customerId)));
  });
  staff.patch('/:customerId', 'customers:write', async (req, res) => {
    res.json(await customers.staffUpdate(staffPrincipal(req), String(req.params.customerId), req.body));
  });
  return staff;
}
