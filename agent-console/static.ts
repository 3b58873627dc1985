import { join } from 'node:path';
import express, { Router, type RequestHandler, type Response } from 'express';
import { NotFoundError } from '../platform/errors.ts';
import { CONSOLE_BUNDLE, ensureBundles, isBuilt, WIDGET_BUNDLE, type BundleSpec } from './bundles.ts';

/**
 * Serves the built console (mount at /console) and chat widget (mount at /chat-widget).
 *
 * Caching: file names under assets/ carry a content hash, so they are cached for a year and never
 * revalidated; the entry points (the console's index.html, the widget's widget.js) keep their names
 * and are revalidated on every load, so a deploy takes effect at the next page load.
 *
 * A process that starts without the built files (a fresh checkout whose install skipped the build)
 * builds them on the first request and answers 503 meanwhile.
 */

/*
 * The console loads nothing from elsewhere and runs no inline script or style: everything comes
 * from its own origin (socket.io's WebSocket included: 'self' covers ws:/wss: to the same host).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const IMMUTABLE = 'public, max-age=31536000, immutable';

function setSecurityHeaders(res: Response) {
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

/** Until the bundle exists: start (or join) the build and ask the browser to come back. */
function whileBuilding(bundle: BundleSpec): RequestHandler {
  let failed: Error | undefined;
  return (_req, res, next) => {
    if (isBuilt(bundle)) return next();
    ensureBundles().catch((error: Error) => {
      failed = error;
    });
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Retry-After', '5');
    res.status(503).type('text/plain').send(failed ? `The ${bundle.name} could not be built: ${failed.message}` : `The ${bundle.name} is being built (first start); reload in a few seconds.`);
  };
}

function assets(bundle: BundleSpec): RequestHandler[] {
  const files = express.static(join(bundle.outDir, 'assets'), {
    index: false,
    redirect: false,
    setHeaders: (res) => {
      setSecurityHeaders(res);
      res.setHeader('Cache-Control', IMMUTABLE);
    },
  });
  // An asset of another build (a page loaded before a deploy) is gone for good: 404, not the app.
  const missing: RequestHandler = (_req, _res, next) => next(new NotFoundError('asset', 'asset.not_found', 'No such file.'));
  return [files, missing];
}

export function createConsoleStaticRoutes(): { console: Router; widget: Router } {
  const consoleRouter = Router({ strict: true });
  consoleRouter.use(whileBuilding(CONSOLE_BUNDLE));
  consoleRouter.use('/assets', ...assets(CONSOLE_BUNDLE));
  consoleRouter.get('/favicon.svg', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.sendFile(join(CONSOLE_BUNDLE.outDir, 'favicon.svg'));
  });
  // Any other path is the single-page app (its screens are #/ routes, but a bookmarked path works too).
  consoleRouter.get(/.*/, (req, res) => {
    if (req.originalUrl.split('?')[0] === '/console') return res.redirect(301, '/console/');
    setSecurityHeaders(res);
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(join(CONSOLE_BUNDLE.outDir, 'index.html'));
  });

  const widgetRouter = Router({ strict: true });
  widgetRouter.use(whileBuilding(WIDGET_BUNDLE));
  widgetRouter.use('/assets', ...assets(WIDGET_BUNDLE));
  widgetRouter.get('/widget.js', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(join(WIDGET_BUNDLE.outDir, 'widget.js'));
  });

  return { console: consoleRouter, widget: widgetRouter };
}
