import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InlineConfig, PluginOption } from 'vite';

/**
 * The two browser bundles the HTTP process serves: the agent console (a Preact app at /console/)
 * and the storefront chat widget (a small script at /chat-widget/). Both are built by Vite into
 * `agent-console/dist/`, which is not committed: `npm install` builds them (the `prepare` script),
 * `npm run build:console` rebuilds them, and a process that starts without them builds them once
 * on first request (static.ts).
 */

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const DIST_DIR = join(HERE, 'dist');

export interface BundleSpec {
  name: 'console' | 'widget';
  /** Where the built files land; static.ts serves this folder. */
  outDir: string;
  /** The file whose presence means the bundle is built. */
  marker: string;
  /** Source folders: a source newer than the marker makes the build stale (tests rebuild then). */
  sources: string[];
  /** Vite's configuration; `plugins` are passed in so the HTTP process loads Vite only when it builds. */
  config(outDir: string, plugins: PluginOption[]): InlineConfig;
}

const SHARED_SOURCES = [join(HERE, 'contract'), join(HERE, 'app', 'lib'), join(HERE, '..', 'api', 'staff', 'permissions.ts')];

export const CONSOLE_BUNDLE: BundleSpec = {
  name: 'console',
  outDir: join(DIST_DIR, 'console'),
  marker: 'index.html',
  sources: [join(HERE, 'app'), ...SHARED_SOURCES],
  config: (outDir, plugins) => ({
    configFile: false,
    root: join(HERE, 'app'),
    base: '/console/',
    logLevel: 'warn',
    plugins,
    build: {
      outDir,
      emptyOutDir: true,
      assetsDir: 'assets',
      // No inline assets: the console's Content-Security-Policy allows files from its own origin only.
      assetsInlineLimit: 0,
      sourcemap: false,
      target: 'es2022',
    },
  }),
};

export const WIDGET_BUNDLE: BundleSpec = {
  name: 'widget',
  outDir: join(DIST_DIR, 'widget'),
  marker: 'widget.js',
  sources: [join(HERE, 'widget'), ...SHARED_SOURCES],
  config: (outDir, plugins) => ({
    configFile: false,
    root: join(HERE, 'widget'),
    base: '/chat-widget/',
    logLevel: 'warn',
    plugins,
    build: {
      outDir,
      emptyOutDir: true,
      assetsInlineLimit: 0,
      sourcemap: false,
      target: 'es2022',
      // The storefront loads one stable URL (widget.js, revalidated on every load); it pulls in the
      // hashed chunk and stylesheet, which are cached for a year.
      rolldownOptions: {
        input: join(HERE, 'widget', 'src', 'loader.ts'),
        output: {
          entryFileNames: 'widget.js',
          chunkFileNames: 'assets/[name]-[hash].js',
          assetFileNames: 'assets/[name]-[hash][extname]',
        },
      },
    },
  }),
};

export const BUNDLES = [CONSOLE_BUNDLE, WIDGET_BUNDLE] as const;

export function isBuilt(bundle: BundleSpec): boolean {
  return existsSync(join(bundle.outDir, bundle.marker));
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** True when the bundle is missing or a source file changed after it was built. */
export function isStale(bundle: BundleSpec): boolean {
  if (!isBuilt(bundle)) return true;
  const builtAt = statSync(join(bundle.outDir, bundle.marker)).mtimeMs;
  return bundle.sources.some((source) => newestMtime(source) > builtAt);
}

/**
 * Builds one bundle into a fresh folder beside the target and swaps it in, so a process serving
 * the old files (or a second process building at the same time) never sees half a build.
 */
export async function buildBundle(bundle: BundleSpec): Promise<void> {
  const [{ build }, { default: preact }] = await Promise.all([import('vite'), import('@preact/preset-vite')]);
  mkdirSync(DIST_DIR, { recursive: true });
  const staging = `${bundle.outDir}.building-${process.pid}-${Date.now()}`;
  try {
    await build(bundle.config(staging, [preact({ prerender: { enabled: false } })]));
    const retired = `${bundle.outDir}.old-${process.pid}-${Date.now()}`;
    if (existsSync(bundle.outDir)) renameSync(bundle.outDir, retired);
    renameSync(staging, bundle.outDir);
    rmSync(retired, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const pending = new Map<string, Promise<void>>();

/** Builds the bundles that are missing (or, with `whenStale`, out of date); one build per bundle at a time. */
export async function ensureBundles(options: { whenStale?: boolean } = {}): Promise<void> {
  await Promise.all(
    BUNDLES.map((bundle) => {
      const needed = options.whenStale ? isStale(bundle) : !isBuilt(bundle);
      if (!needed) return pending.get(bundle.name);
      let running = pending.get(bundle.name);
      if (!running) {
        running = buildBundle(bundle).finally(() => pending.delete(bundle.name));
        pending.set(bundle.name, running);
      }
      return running;
    }),
  );
}

// `node agent-console/bundles.ts`: the build:console script and npm's prepare step.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  for (const bundle of BUNDLES) await buildBundle(bundle);
  process.stdout.write(`console and chat widget built in ${((Date.now() - started) / 1000).toFixed(1)} s (${DIST_DIR})\n`);
}
