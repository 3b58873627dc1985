import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { z } from 'zod';
import type { Config } from '../../platform/config.ts';
import { SIMULATED_TEST_CARDS } from '../payments/gateway.ts';

/** What the storefront script reads at start-up. */
export const StorefrontConfig = z.strictObject({
  /** True outside production: payments go to the simulated gateway. */
  testMode: z.boolean(),
  /** The simulated gateway's test cards; empty in production. */
  testCards: z.array(z.strictObject({ number: z.string(), description: z.string() })),
});
export type StorefrontConfig = z.infer<typeof StorefrontConfig>;

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/*
 * The pages load nothing from elsewhere (no CDN is reachable, and a store page that handles card
 * numbers should not run third-party script). Product images may come from any https host.
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

/**
 * The shopper-facing web store: static files at `/` (plain HTML/JS/CSS, no build step) and a tiny
 * settings endpoint. Mount `api` at /api/storefront and `site` at the root, after the API routers.
 */
export function createStorefrontRoutes({ config }: { config: Pick<Config, 'env'> }) {
  const testMode = config.env !== 'production';
  const settings: StorefrontConfig = {
    testMode,
    testCards: testMode ? SIMULATED_TEST_CARDS.map((card) => ({ number: card.number, description: card.description })) : [],
  };

  const api = Router();
  api.get('/config', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.json(settings);
  });

  const site = Router();
  site.use(
    express.static(PUBLIC_DIR, {
      index: 'index.html',
      redirect: false,
      // maxAge 0: revalidate on every load so a deploy's page and script never mix with a cached older half.
      maxAge: 0,
      setHeaders: (res) => res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY),
    }),
  );

  return { api, site };
}
