import { staffPrincipal, type createStaffGuard } from '../http/auth.ts';
import { StaffRouter } from '../http/staff-router.ts';
import type { CatalogService } from './service.ts';

export const CATALOG_ADMIN_MOUNT = '/api/staff/catalog';

/**
 * Catalog administration for admins (`catalog:manage`), mounted at /api/staff/catalog. Bodies and
 * queries are parsed by the service; every change records the signed-in staff member.
 * Push `routes` into app.locals.staffRoutes so the permission-matrix test walks them.
 */
export function createCatalogAdminRouter(catalog: CatalogService, guard: ReturnType<typeof createStaffGuard>): StaffRouter {
  const staff = new StaffRouter(guard, CATALOG_ADMIN_MOUNT);

  staff.get('/products', 'catalog:manage', async (req, res) => {
    res.json(await catalog.listAdmin(req.query ?? {}));
  });

  staff.post('/products', 'catalog:manage', async (req, res) => {
    const product = await catalog.create(req.body ?? {}, staffPrincipal(req));
    res.status(201).location(`${CATALOG_ADMIN_MOUNT}/products/${product.sku}`).json(product);
  });

  staff.get('/products/:sku', 'catalog:manage', async (req, res) => {
    res.json(await catalog.getAdmin(String(req.params.sku)));
  });

  staff.patch('/products/:sku', 'catalog:manage', async (req, res) => {
    res.json(await catalog.update(String(req.params.sku), req.body ?? {}, staffPrincipal(req)));
  });

  staff.post('/products/:sku/deactivate', 'catalog:manage', async (req, res) => {
    res.json(await catalog.deactivate(String(req.params.sku), staffPrincipal(req)));
  });

  staff.post('/products/:sku/stock-adjustments', 'catalog:manage', async (req, res) => {
    res.status(201).json(await catalog.adjustStock(String(req.params.sku), req.body ?? {}, staffPrincipal(req)));
  });

  staff.get('/products/:sku/history', 'catalog:manage', async (req, res) => {
    res.json({ items: await catalog.history(String(req.params.sku)) });
  });

  return staff;
}
