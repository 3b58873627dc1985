import { Router } from 'express';
import type { CatalogService } from './service.ts';

/** Shopper-facing catalog, mounted at /api/catalog: active, released products only. */
export function createCatalogRouter(catalog: Pick<CatalogService, 'get' | 'list'>): Router {
  const router = Router();

  router.get('/products', async (req, res) => {
    // The service parses the query with CatalogQuery (unknown parameters are a 400).
    const page = await catalog.list(req.query ?? {});
    // Availability moves with sales, so caches may only hold it briefly.
    res.setHeader('Cache-Control', 'public, max-age=15');
    res.json(page);
  });

  router.get('/products/:sku', async (req, res) => {
    const product = await catalog.get(req.params.sku);
    res.setHeader('Cache-Control', 'public, max-age=15');
    res.json(product);
  });

  return router;
}
