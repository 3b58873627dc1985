import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { attachConsoleSockets, type ConsoleSockets } from '../../agent-console/server.ts';
import { ensureBundles } from '../../agent-console/bundles.ts';
import type { TestContext } from '../support/infra.ts';
import { freshTotpCode, type TestStaffUser } from '../support/staff-sessions.ts';

/**
 * Shared steps of the console and chat-widget browser suites: build the bundles if they are
 * missing or older than their sources, attach the console sockets to the test server, sign in
 * through the real form, run axe-core, keep screenshots for a person to look at.
 */

/** Set to a directory to keep screenshots (for a person to look at; never committed). */
export const SCREENSHOT_DIR = process.env.CONSOLE_SCREENSHOT_DIR;

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export async function buildConsoleIfNeeded(): Promise<void> {
  await ensureBundles({ whenStale: true });
}

/**
 * The socket.io side of the console on the test server, as `mintdesk start` attaches it (with its
 * 30 s session re-check, so a suspension reaches the console through its event, not the re-check).
 */
export function attachSockets(ctx: TestContext): ConsoleSockets {
  return attachConsoleSockets(ctx.server, ctx.services);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOT_DIR) await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png` });
}

/**
 * axe-core in the page (evaluated over the DevTools protocol, which the console's CSP does not
 * block): no serious or critical violation, shadow roots (the widget) included.
 */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe.run(document, {
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) }));
  });
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(blocking, `${screen}: ${JSON.stringify(blocking, null, 2)}`).to.deep.equal([]);
}

/** Page errors and console errors (CSP violations included), except failed loads the test provokes. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  return problems;
}

export async function openConsole(context: BrowserContext, baseUrl: string): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${baseUrl}/console/`);
  await page.getByLabel('Username').waitFor();
  return { page, problems };
}

/** Signs in through the form; answers the TOTP step for roles that need it. */
export async function signIn(page: Page, user: TestStaffUser): Promise<void> {
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (user.totpUri) {
    await page.getByLabel('Authenticator code').waitFor();
    await page.getByLabel('Authenticator code').fill(freshTotpCode(user, Date.now())!);
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
  }
  await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 30_000 });
}
