import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import express, { Router, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { SIMULATED_TEST_CARDS } from '../payments/gateway.ts';
import { ensureStorefrontBuilt, STOREFRONT_DIST } from './assets.ts';

/** What the storefront script reads at start-up. */
export const StorefrontConfig = z.strictObject({
  /** The store's name (STORE_NAME), the same on the site, in emails and on the phone line. */
  storeName: z.string(),
  /** True outside production: payments go to the simulated gateway. */
  testMode: z.boolean(),
  /** The simulated gateway's test cards; empty in production. */
  testCards: z.array(z.strictObject({ number: z.string(), description: z.string() })),
});
export type StorefrontConfig = z.infer<typeof StorefrontConfig>;

/*
 * The pages load nothing from elsewhere (no CDN is reachable, and a store page that handles card
 * numbers should not run third-party script). Product images an admin points at an https host
 * may load; the demo catalog has none and draws its coins.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The shopper-facing web store: the Vite build of storefront/ at `/` (index.html, and hashed files
 * under /assets that never change, so browsers keep them) and a tiny settings endpoint. Mount `api`
 * at /api/storefront and `site` at the root, after the API routers.
 */
export function createStorefrontRoutes({ config, logger }: { config: Pick<Config, 'env' | 'storeName'>; logger?: Logger }) {
  const testMode = config.env !== 'production';
  const settings: StorefrontConfig = {
    storeName: config.storeName,
    testMode,
    testCards: testMode ? SIMULATED_TEST_CARDS.map((card) => ({ number: card.number, description: card.description })) : [],
  };

  const api = Router();
  api.get('/config', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.json(settings);
  });

  // Started now, so the first page request rarely waits for it.
  const built = logger ? ensureStorefrontBuilt({ logger, production: config.env === 'production' }) : Promise.resolve();
  built.catch(() => undefined);
  let page: Promise<string> | undefined;
  const indexPage = () =>
    (page ??= built.then(async () => {
      const html = await readFile(join(STOREFRONT_DIST, 'index.html'), 'utf8');
      return html.replaceAll('{{storeName}}', escapeHtml(config.storeName));
    }));

  const sendPage = async (res: Response) => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    try {
      const html = await indexPage();
      // Revalidated on every load: the page names the hashed files of the current build.
      res.setHeader('Cache-Control', 'no-cache');
      res.type('html').send(html);
    } catch {
      page = undefined;
      res.status(503).type('text/plain').send('The store pages are not built. Run npm run build:storefront and reload.');
    }
  };

  const site = Router();
  site.get(['/', '/index.html'], (_req, res) => void sendPage(res));
  site.use(
    '/assets',
    async (_req, _res, next) => {
      await built.catch(() => undefined);
      next();
    },
    express.static(join(STOREFRONT_DIST, 'assets'), {
      index: false,
      redirect: false,
      // File names carry a hash of their content: a new build has new names.
      immutable: true,
      maxAge: '1y',
      setHeaders: (res) => res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY),
    }),
  );

  return { api, site };
}
