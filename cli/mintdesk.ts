import { createServer } from 'node:http';
import { CONFIG_DOC, ConfigError, loadConfig } from '../platform/config.ts';
import { startWorkers } from '../workers/main.ts';
import { attachConsoleSockets } from '../agent-console/server.ts';
import { boot, closeServer, listen, onShutdown } from './process.ts';
import { runAdminCommand, runSeed } from './commands.ts';

const USAGE = `mintdesk <command>

  start                 the whole platform in one process: API, IVR, console, workers
                        (embedded Mongo/Redis/S3/SMTP and a phone simulator when not configured)
  api                   the HTTP process only (API, IVR webhooks, console)
  workers               the BullMQ workers only
  seed [--demo-staff]   load the demo catalog (idempotent); --demo-staff adds one account per role
                        (one-time passwords; each sets its own password and TOTP at first sign-in)
  admin create-user --username NAME --role ROLE [--password PW] [--name "Full Name"] [--email E]
  admin verify-audit    check the audit trail's hashes, HMACs and signed checkpoints; exits 1 naming the first bad seq
  admin reconcile-inventory   rebuild Redis stock and household counts from Mongo
  admin rotate-vault-keys     re-wrap card data keys under VAULT_ACTIVE_KEY_ID
  config                validate the environment and list every variable
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return runServers({ http: true, workers: true });
    case 'api':
      return runServers({ http: true, workers: false });
    case 'workers':
      return runServers({ http: false, workers: true });
    case 'seed':
      return runSeed(rest);
    case 'admin':
      return runAdminCommand(rest);
    case 'config':
      return printConfig();
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      console.error(`mintdesk: unknown command "${command}"\n\n${USAGE}`);
      process.exit(2);
  }
}

async function runServers(parts: { http: boolean; workers: boolean }): Promise<void> {
  const booted = await boot(parts.http && parts.workers ? 'mintdesk' : parts.http ? 'mintdesk-api' : 'mintdesk-workers');
  const { config, logger, runtime, infrastructure } = booted;
  const steps: { name: string; run: () => Promise<void> }[] = [];
  if (parts.http) {
    const server = createServer(runtime.createHttpApp());
    const consoleSockets = attachConsoleSockets(server, runtime.services);
    const port = await listen(server, config.http.port);
    const base = config.http.publicBaseUrl ?? `http://localhost:${port}`;
    steps.push({ name: 'sockets', run: () => consoleSockets.close() });
    steps.push({ name: 'http', run: () => closeServer(server) });
    logger.info({ port, mongo: infrastructure.mongoEngine }, 'HTTP listening');
    // A first start has nothing to sell and nobody to sign in: say how to get both.
    const catalogEmpty = await runtime.services.catalog.list({ pageSize: 1 }).then((page) => page.total === 0, () => false);
    process.stdout.write(
      [
        '',
        `  mintdesk is running (${infrastructure.mongoEngine === 'external' ? 'MongoDB' : infrastructure.mongoEngine}, Redis, S3, SMTP ready)`,
        `  storefront      ${base}/`,
        `  agent console   ${base}/console/`,
        `  phone simulator ${config.twilio.accountSid ? '(Twilio configured)' : `${base}/simulator/`}`,
        `  API docs        ${base}/api/docs`,
        ...(catalogEmpty ? ['', '  The catalog is empty: `npm run mintdesk -- seed --demo-staff` loads the demo catalog and one staff account per role.'] : []),
        '',
      ].join('\n') + '\n',
    );
  }
  if (parts.workers) {
    const workers = await startWorkers(runtime);
    steps.push({ name: 'workers', run: () => workers.close() });
  }
  onShutdown(booted, steps);
}

function printConfig(): void {
  try {
    loadConfig();
    process.stdout.write('configuration OK\n\n');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${error.message}\n`);
    process.exitCode = 2;
  }
  for (const row of CONFIG_DOC) process.stdout.write(`${row.variable.padEnd(40)} ${row.default.padEnd(40)} ${row.meaning}\n`);
}

await main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`mintdesk: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});

