import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { attachConsoleSockets, type ConsoleSockets } from '../../agent-console/server.ts';
import { ensureBundles } from '../../agent-console/bundles.ts';
import type { StaffRole } from '../../api/staff/permissions.ts';
import { SYSTEM } from '../support/fixtures.ts';
import { api } from '../support/http.ts';
import type { TestContext } from '../support/infra.ts';
import { createStaffUser, freshTotpCode, loginStaff, type TestStaffUser } from '../support/staff-sessions.ts';

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
  return attachConsoleSockets(ctx.server, ctx.services, { routing: { intervalMs: 200 }, refreshMs: 500 });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOT_DIR) await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png` });
}

/**
 * axe-core in the page (evaluated over the DevTools protocol, which the console's CSP does not
 * block): no serious or critical violation, shadow roots (the widget) included.
 */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  auditing.add(page);
  try {
    await runAxe(page, screen);
  } finally {
    // Its console reports arrive a moment after the evaluation returns.
    await page.waitForTimeout(200);
    auditing.delete(page);
  }
}

/** Pages axe is running in: axe sets inline styles while it measures, which a strict CSP reports. */
const auditing = new WeakSet<Page>();

async function runAxe(page: Page, screen: string): Promise<void> {
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
  if (process.env.CONSOLE_TEST_DEBUG) {
    page.on('console', (message) => console.log(`[page ${message.type()}] ${message.text()}`));
    page.on('response', (response) => response.status() >= 400 && console.log(`[http ${response.status()}] ${response.url()}`));
  }
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error' || /Failed to load resource/.test(message.text())) return;
    if (auditing.has(page) && /Applying inline style violates/.test(message.text())) return;
    problems.push(`console: ${message.text()}`);
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

/** A staff user with a chosen display name (the visitor sees its first word). */
export async function namedStaff(ctx: TestContext, role: StaffRole, displayName: string): Promise<TestStaffUser> {
  const username = `${role.replace(/_/g, '')}-${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const created = await ctx.services.staff.createUser({ username, displayName, email: `${username}@staff.example.com`, role, password }, SYSTEM);
  return { id: created.user.id, username, password, role, ...(created.totpUri ? { totpUri: created.totpUri } : {}) };
}

/**
 * Chat is staffed during the IVR's opening hours. Tests must not depend on the day they run:
 * open all week round the clock, or closed all week, with no holidays.
 */
export async function setChatHours(ctx: TestContext, mode: 'always_open' | 'closed'): Promise<void> {
  const token = await loginStaff(ctx, await createStaffUser(ctx, 'admin'));
  const current = await api(ctx.baseUrl, 'GET', '/api/staff/ivr/config', { token });
  const config = current.body.config;
  config.hours.weekly = mode === 'always_open' ? [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], open: '00:00', close: '24:00' }] : [];
  config.hours.holidays = [];
  const saved = await api(ctx.baseUrl, 'PUT', '/api/staff/ivr/config', { token, body: { baseVersion: current.body.version, config } });
  expect(saved.status, JSON.stringify(saved.body)).to.equal(201);
}

export async function setPresence(page: Page, presence: 'available' | 'break' | 'offline'): Promise<void> {
  const select = page.getByLabel('Presence', { exact: true });
  await page.getByText('Connected', { exact: true }).waitFor();
  await select.selectOption(presence);
  await page.locator('.facts').getByText(new RegExp(`^${presence} for`)).waitFor();
}

/** The storefront with the chat widget open. */
export async function openShopper(context: BrowserContext, baseUrl: string): Promise<{ page: Page; problems: string[]; frames: string[] }> {
  const page = await context.newPage();
  const problems = watchProblems(page);
  const frames = recordSocketFrames(page);
  await page.goto(`${baseUrl}/`);
  await page.getByRole('button', { name: 'Chat with us' }).click();
  return { page, problems, frames };
}

export async function startChat(page: Page, visitor: { name: string; email: string; topic?: string }): Promise<void> {
  const widget = page.locator('#mintdesk-chat');
  await widget.getByLabel('Your name').fill(visitor.name);
  await widget.getByLabel('Email', { exact: true }).fill(visitor.email);
  if (visitor.topic) await widget.getByLabel('What is it about?').selectOption(visitor.topic);
  await widget.getByRole('button', { name: 'Start chat' }).click();
  await widget.getByLabel('Your message').waitFor();
}

/** Every WebSocket frame the page receives, as text. */
export function recordSocketFrames(page: Page): string[] {
  const frames: string[] = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', (frame) => frames.push(typeof frame.payload === 'string' ? frame.payload : frame.payload.toString('utf8')));
  });
  return frames;
}
