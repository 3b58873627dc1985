import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';
import { createTestContext, type TestContext, type TestContextOptions } from './infra.ts';

/**
 * Browser tests drive the distribution's Chromium through playwright-core; nothing is downloaded
 * (no `npx playwright install`). CI installs the `chromium` package; CHROMIUM_PATH points elsewhere.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Playwright adds --headless (headless: true) and --user-data-dir itself: a fresh temporary profile
// per launch, deleted when the browser closes. It refuses a --user-data-dir in `args`.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const open = new Set<Browser>();
let exitHookInstalled = false;

/**
 * Launches headless Chromium. Close it in the suite's `after`; whatever is still open when the
 * process exits (mocha `exit: true`, a crash) is killed with its process group by Playwright's own
 * exit handler, and `closeAllBrowsers` closes the rest gracefully from a root hook if wanted.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium was not found at ${CHROMIUM_PATH}. Browser tests need Debian's chromium package (apt-get install chromium) ` +
        'or CHROMIUM_PATH pointing at a Chromium binary; they never download a browser.',
    );
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  open.add(browser);
  browser.on('disconnected', () => open.delete(browser));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'beforeExit' fires when the event loop drains (no forced exit): time enough to close politely.
    process.once('beforeExit', () => void closeAllBrowsers());
  }
  return browser;
}

export async function closeAllBrowsers(): Promise<void> {
  await Promise.allSettled([...open].map((browser) => browser.close()));
}

export interface BrowserSuite {
  /** The test runtime, listening on loopback; set once the suite's `before` ran. */
  readonly ctx: TestContext;
  /** A fresh browser profile (own storage), closed after each test. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
}

/**
 * The hooks every browser suite needs: Chromium and a test runtime before the tests (Chromium
 * first, so a missing browser fails the suite at once with the launcher's message), the profiles
 * a test opened closed after it, both closed after the suite. `setup` runs once the runtime exists;
 * `contextOptions` configure the runtime (e.g. `env` overrides).
 */
export function browserSuite(setup?: (ctx: TestContext) => Promise<void>, contextOptions?: TestContextOptions): BrowserSuite {
  let browser: Browser | undefined;
  let ctx: TestContext | undefined;
  const contexts: BrowserContext[] = [];
  before(async () => {
    browser = await launchBrowser();
    ctx = await createTestContext(contextOptions);
    await setup?.(ctx);
  });
  afterEach(async () => {
    await Promise.allSettled(contexts.splice(0).map((context) => context.close()));
  });
  after(async () => {
    await browser?.close();
    await ctx?.close();
  });
  return {
    get ctx() {
      if (!ctx) throw new Error('the browser suite has not started yet');
      return ctx;
    },
    async newContext(options) {
      if (!browser) throw new Error('the browser suite has not started yet');
      const context = await browser.newContext(options);
      contexts.push(context);
      return context;
    },
  };
}
