import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The layer rules (.dependency-cruiser.cjs, run by `npm run deps:check` and `npm run lint`) on a
 * small tree laid out like ours: the allowed imports pass, and each forbidden one is reported under
 * its rule. The repository itself is checked by `npm run lint` in CI.
 */
const CONFIG = join(process.cwd(), '.dependency-cruiser.cjs');
const DEPCRUISE = join(process.cwd(), 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const FOLDERS = ['platform', 'api', 'ivr', 'agent-console', 'workers', 'apps', 'cli', 'test', 'bench'];

const ALLOWED: Record<string, string> = {
  'platform/clock.ts': `export const now = () => new Date();`,
  'api/orders/service.ts': `import { now } from '../../platform/clock.ts';\nexport const createOrderService = () => ({ now });`,
  'api/services.ts': `import { createOrderService } from './orders/service.ts';\nexport const createServices = () => ({ orders: createOrderService() });\nexport type Services = ReturnType<typeof createServices>;`,
  'ivr/phone-network.ts': `import type { Services } from '../api/services.ts';\nexport type PhoneNetwork = { services?: Services };`,
  'ivr/simulator/network.ts': `import type { PhoneNetwork } from '../phone-network.ts';\nexport const createSimulatedPhoneNetwork = (): PhoneNetwork => ({});`,
  'agent-console/server.ts': `import type { Services } from '../api/services.ts';\nexport const attachConsoleSockets = (_services: Services) => undefined;`,
  'workers/start.ts': `import type { Services } from '../api/services.ts';\nexport const startWorkers = (_services: Services) => undefined;`,
  'apps/dev/phone-simulator.ts': `import { createSimulatedPhoneNetwork } from '../../ivr/simulator/network.ts';\nexport const createPhoneSimulator = () => createSimulatedPhoneNetwork();`,
  'apps/runtime.ts': `import { createServices } from '../api/services.ts';\nimport { createPhoneSimulator } from './dev/phone-simulator.ts';\nimport { startWorkers } from '../workers/start.ts';\nimport { attachConsoleSockets } from '../agent-console/server.ts';\nexport const createRuntime = () => ({ services: createServices(), phone: createPhoneSimulator(), startWorkers, attachConsoleSockets });`,
  'cli/mintdesk.ts': `import { createRuntime } from '../apps/runtime.ts';\nexport const run = () => createRuntime();`,
  'test/ivr.test.ts': `import { createSimulatedPhoneNetwork } from '../ivr/simulator/network.ts';\nimport { driver } from '../bench/driver.ts';\nexport const t = [createSimulatedPhoneNetwork, driver];`,
  'bench/driver.ts': `import { createRuntime } from '../apps/runtime.ts';\nexport const driver = createRuntime;`,
};

function cruise(files: Record<string, string>): { status: number | null; violations: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'layer-rules-'));
  try {
    writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true, strict: true } }));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }));
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), `${source}\n`);
    }
    const folders = FOLDERS.filter((folder) => Object.keys(files).some((path) => path.startsWith(`${folder}/`)));
    const run = spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'err', ...folders], { cwd: root, encoding: 'utf8' });
    const violations = `${run.stdout}${run.stderr}`
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('error '));
    return { status: run.status, violations };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('layer rules (dependency-cruiser)', function () {
  this.timeout(120_000);

  it('accepts imports that go down the layers, the development wiring of the simulator, and tests and benchmarks importing anything', () => {
    const { status, violations } = cruise(ALLOWED);
    expect(violations).to.deep.equal([]);
    expect(status).to.equal(0);
  });

  it('reports every forbidden import under its rule and fails', () => {
    const { status, violations } = cruise({
      ...ALLOWED,
      'platform/bad.ts': `import type { Services } from '../api/services.ts';\nexport type X = Services;`,
      'api/orders/bad.ts': `import type { PhoneNetwork } from '../../ivr/phone-network.ts';\nexport type Y = PhoneNetwork;`,
      'api/bad-workers.ts': `import { startWorkers } from '../workers/start.ts';\nexport const w = startWorkers;`,
      'ivr/webhooks.ts': `import { createSimulatedPhoneNetwork } from './simulator/network.ts';\nexport const s = createSimulatedPhoneNetwork;`,
      'apps/api/app.ts': `import { createSimulatedPhoneNetwork } from '../../ivr/simulator/network.ts';\nexport const s = createSimulatedPhoneNetwork;`,
      'workers/bad.ts': `import type { createRuntime } from '../apps/runtime.ts';\nexport type R = typeof createRuntime;`,
      'agent-console/bad.ts': `import { startWorkers } from '../workers/start.ts';\nexport const w = startWorkers;`,
    });
    const reported = (rule: string, from: string) => violations.some((line) => line.startsWith(`error ${rule}: ${from}`));
    expect(reported('platform-imports-only-platform', 'platform/bad.ts'), violations.join('\n')).to.equal(true);
    expect(reported('api-imports-only-api-and-platform', 'api/orders/bad.ts'), violations.join('\n')).to.equal(true);
    expect(reported('api-imports-only-api-and-platform', 'api/bad-workers.ts'), violations.join('\n')).to.equal(true);
    expect(reported('phone-simulator-is-development-wiring-only', 'ivr/webhooks.ts'), violations.join('\n')).to.equal(true);
    expect(reported('phone-simulator-is-development-wiring-only', 'apps/api/app.ts'), violations.join('\n')).to.equal(true);
    expect(reported('adapters-import-only-api-and-platform', 'workers/bad.ts'), violations.join('\n')).to.equal(true);
    expect(reported('adapters-import-only-api-and-platform', 'agent-console/bad.ts'), violations.join('\n')).to.equal(true);
    expect(reported('no-cycle-between-top-level-folders', 'workers'), violations.join('\n')).to.equal(true);
    expect(status).to.not.equal(0);
  });
});
