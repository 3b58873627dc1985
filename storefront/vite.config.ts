import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Writes dist/.sources.json: every file of this repository the bundle was built from (the app and
 * the api/ schemas it shares). The server rebuilds outside production when one is newer than the
 * build (api/storefront/assets.ts), so a stale bundle never meets a changed schema.
 */
function recordSources(): Plugin {
  return {
    name: 'mintdesk-record-sources',
    apply: 'build',
    generateBundle() {
      const files = new Set(['storefront/index.html', 'storefront/vite.config.ts']);
      for (const id of this.getModuleIds()) {
        const path = id.split('?')[0]!;
        if (id.startsWith('\0') || path.includes('/node_modules/') || !path.startsWith(repoRoot)) continue;
        files.add(relative(repoRoot, path));
      }
      this.emitFile({ type: 'asset', fileName: '.sources.json', source: JSON.stringify({ files: [...files].sort() }, null, 1) });
    },
  };
}

/** The storefront bundle: `npm run build:storefront` (run by `npm install`) writes storefront/dist. */
export default defineConfig({
  root,
  // Built files are served from the site root (api/storefront/routes.ts); nothing is loaded from elsewhere.
  base: '/',
  publicDir: false,
  plugins: [preact(), recordSources()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Inlined assets would be data: URLs; everything stays a same-origin file for the strict CSP.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
