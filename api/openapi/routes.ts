import { Router } from 'express';
import type { StaffRouteSpec } from '../http/staff-router.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { buildOpenApiDocument, renderDocsPage, type OpenApiDocument } from './document.ts';
import { apiOperations } from './registry.ts';

// The page has no script at all; its only styles are inline.
const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * `GET /api/openapi.json` and `GET /api/docs`, mounted at /api. The document is built on first
 * request, not at mount time, so staff routers mounted after this one are in it too.
 */
export function createOpenApiRoutes({ staffRoutes }: { staffRoutes: readonly StaffRouteSpec[] }): Router {
  let built: { document: OpenApiDocument; json: string; html: string } | undefined;
  const current = () => {
    if (!built) {
      const document = buildOpenApiDocument({ registry: apiOperations(), staffRoutes, version: packageJson.version });
      built = { document, json: JSON.stringify(document), html: renderDocsPage(document) };
    }
    return built;
  };

  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('application/json').send(current().json);
  });
  router.get('/docs', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', DOCS_CSP);
    res.type('html').send(current().html);
  });
  return router;
}
