import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../platform/logger.ts';

/**
 * The storefront's built files: `npm install` builds them (`npm run build:storefront`, Vite) into
 * storefront/dist; this module finds them, and builds them when they are missing (a fresh clone
 * started before any install script ran, an install with --ignore-scripts) or, outside production,
 * older than the sources they were built from (someone edited the storefront and ran the tests).
 */

export const STOREFRONT_ROOT = fileURLToPath(new URL('../../storefront/', import.meta.url));
export const STOREFRONT_DIST = join(STOREFRONT_ROOT, 'dist');
export const STOREFRONT_CONFIG_FILE = join(STOREFRONT_ROOT, 'vite.config.ts');
/** Written by the build (storefront/vite.config.ts): every source file the bundle was made of, repo-relative. */
export const SOURCES_MANIFEST = '.sources.json';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SourcesManifest {
  files: string[];
}

/** Why the build output cannot be used as it is, or undefined when it can. */
export function staleReason(distDir = STOREFRONT_DIST, options: { checkSources: boolean } = { checkSources: true }): string | undefined {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) return 'not built yet';
  if (!options.checkSources) return undefined;
  const builtAt = statSync(index).mtimeMs;
  let manifest: SourcesManifest;
  try {
    manifest = JSON.parse(readFileSync(join(distDir, SOURCES_MANIFEST), 'utf8')) as SourcesManifest;
  } catch {
    return 'built without a list of its sources';
  }
  for (const file of manifest.files) {
    const path = join(REPO_ROOT, file);
    if (!existsSync(path)) return `${file} no longer exists`;
    if (statSync(path).mtimeMs > builtAt) return `${file} changed since the build`;
  }
  return undefined;
}

let building: Promise<void> | undefined;

/**
 * Builds the storefront once per process when it has to be. Vite writes to a directory of its own
 * first and the result is swapped in, so a page being served (or a second process doing the same)
 * never sees half a build.
 */
export function ensureStorefrontBuilt({ logger, production }: { logger: Logger; production: boolean }): Promise<void> {
  if (building) return building;
  // Production serves what the image was built with; only development checks the sources' dates.
  const reason = staleReason(STOREFRONT_DIST, { checkSources: !production });
  if (!reason) {
    building = Promise.resolve();
    return building;
  }
  building = (async () => {
    logger.info({ reason }, 'building the storefront (npm run build:storefront)');
    const { build } = await import('vite');
    const outDir = `${STOREFRONT_DIST}.tmp-${process.pid}`;
    await build({ configFile: STOREFRONT_CONFIG_FILE, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    rmSync(STOREFRONT_DIST, { recursive: true, force: true });
    try {
      renameSync(outDir, STOREFRONT_DIST);
    } catch (error) {
      // Another process swapped its build in first: theirs is as good as ours.
      rmSync(outDir, { recursive: true, force: true });
      if (!existsSync(join(STOREFRONT_DIST, 'index.html'))) throw error;
    }
    logger.info('storefront built');
  })();
  building.catch((error: Error) => logger.error({ err: error.message }, 'the storefront could not be built; run npm run build:storefront'));
  return building;
}
