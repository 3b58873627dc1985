import { main as runApi } from '../apps/api/main.ts';
import { main as runStart } from '../apps/start/main.ts';
import { main as runWorkers } from '../apps/workers/main.ts';
import { main as runWs } from '../apps/ws/main.ts';
import { CONFIG_DOC, ConfigError, loadConfig } from '../platform/config.ts';
import { runAdminCommand, runSeed } from './commands.ts';

const USAGE = `mintdesk <command>

  start                 the whole platform in one process: API, IVR, console sockets, workers
                        (embedded Mongo/Redis/S3/SMTP and a phone simulator when not configured)
  api                   the HTTP process only (API, IVR webhooks, storefront, phone simulator)
  ws                    the console's socket.io process only (on WS_PORT)
  workers               the BullMQ workers only
  seed [--demo-staff]   load the demo catalog (idempotent); --demo-staff adds one account per role
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
      return runStart();
    case 'api':
      return runApi();
    case 'ws':
      return runWs();
    case 'workers':
      return runWorkers();
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

