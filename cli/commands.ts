import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { seedCatalog } from '../api/catalog/seed-data.ts';
import { createStaffUserFromCli } from '../api/staff/service.ts';
import { STAFF_ROLES, type StaffRole } from '../api/staff/permissions.ts';
import { verifyAuditChain } from '../api/audit/verify.ts';
import { boot, type Booted } from '../apps/process.ts';

async function withPlatform<T>(name: string, work: (booted: Booted) => Promise<T>): Promise<T> {
  const booted = await boot(name, { reuseRunning: true });
  try {
    return await work(booted);
  } finally {
    await booted.runtime.close();
    await booted.infrastructure.stop();
  }
}

/** Demo catalog, and with --demo-staff one account per role for trying the console (never in production). */
export async function runSeed(args: string[] = []): Promise<void> {
  const { values } = parseArgs({ args, options: { 'demo-staff': { type: 'boolean', default: false } } });
  await withPlatform('mintdesk-seed', async ({ runtime, config }) => {
    const catalog = await seedCatalog(runtime.services.catalog);
    process.stdout.write(`catalog: ${catalog.created.length} created, ${catalog.existing.length} already there\n`);
    if (!values['demo-staff']) return;
    if (config.env === 'production') throw new Error('demo staff accounts are refused when NODE_ENV=production');
    for (const role of STAFF_ROLES) {
      const username = `demo-${role.replace('_', '-')}`;
      const password = randomBytes(9).toString('base64url');
      try {
        const created = await createStaffUserFromCli(runtime, { username, displayName: `Demo ${role}`, email: `${username}@mintdesk.local`, role, password });
        process.stdout.write(`staff ${username} (${role}) password ${password}${created.totpUri ? `\n  TOTP: ${created.totpUri}` : ''}\n`);
      } catch (error) {
        process.stdout.write(`staff ${username}: ${(error as Error).message}\n`);
      }
    }
  });
}

export async function runAdminCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'create-user') {
    const { values } = parseArgs({
      args: rest,
      options: { username: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' } },
    });
    if (!values.username || !values.role || !STAFF_ROLES.includes(values.role as StaffRole)) {
      console.error(`usage: mintdesk admin create-user --username NAME --role ${STAFF_ROLES.join('|')} [--password PW] [--name "Full Name"] [--email E]`);
      process.exit(2);
    }
    const password = values.password ?? randomBytes(12).toString('base64url');
    await withPlatform('mintdesk-admin', async ({ runtime }) => {
      const created = await createStaffUserFromCli(runtime, {
        username: values.username!,
        displayName: values.name ?? values.username!,
        email: values.email ?? `${values.username}@mintdesk.local`,
        role: values.role as StaffRole,
        password,
      });
      process.stdout.write(`created ${created.user.username} (${created.user.role})\n`);
      if (!values.password) process.stdout.write(`password: ${password}\n`);
      if (created.totpUri) process.stdout.write(`second factor (scan into an authenticator app, shown once):\n  ${created.totpUri}\n`);
    });
    return;
  }
  if (sub === 'verify-audit') {
    await withPlatform('mintdesk-admin', async ({ runtime }) => {
      const result = await verifyAuditChain(runtime);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      if (!result.ok) {
        process.stderr.write(`audit trail does not verify: first bad seq ${result.firstBrokenSeq} (${result.reason})\n`);
        process.exitCode = 1;
      }
    });
    return;
  }
  if (sub === 'reconcile-inventory') {
    const { reconcileInventory } = await import('../workers/maintenance/worker.ts');
    await withPlatform('mintdesk-admin', async ({ runtime }) => {
      process.stdout.write(`${JSON.stringify(await reconcileInventory(runtime.services), null, 2)}\n`);
    });
    return;
  }
  if (sub === 'rotate-vault-keys') {
    const { values } = parseArgs({ args: rest, options: { limit: { type: 'string' } } });
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      console.error('usage: mintdesk admin rotate-vault-keys [--limit N]   (N: a positive whole number of cards)');
      process.exit(2);
    }
    await withPlatform('mintdesk-admin', async ({ runtime }) => {
      const report = await runtime.services.vault.rewrapAll(limit === undefined ? {} : { limit });
      process.stdout.write(`re-wrapped ${report.rewrapped} card data keys under ${report.activeKeyId}\n`);
      for (const failure of report.failed) {
        process.stdout.write(`could not re-wrap ${failure.cards} cards under ${failure.masterKeyId} (${failure.code})\n`);
      }
      process.stdout.write(`${report.remaining} cards remain under other master keys\n`);
      // An old key may be retired only when nothing is left under it; say so rather than succeed.
      if (report.failed.length > 0 || (report.remaining > 0 && limit === undefined)) process.exitCode = 1;
      else if (report.remaining > 0) process.stdout.write('run the command again to re-wrap the rest\n');
    });
    return;
  }
  console.error('usage: mintdesk admin create-user|verify-audit|reconcile-inventory|rotate-vault-keys');
  process.exit(2);
}
