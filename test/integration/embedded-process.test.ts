import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { startManagedProcess } from '../../platform/embedded/process.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return condition();
}

describe('embedded servers end with the process that started them', function () {
  this.timeout(30_000);

  it('ends the server when its parent is killed with SIGKILL, which runs no exit handler', async () => {
    const parent = spawn(process.execPath, ['test/support/managed-child.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    const serverPid = Number(line.toString().trim());
    expect(serverPid).to.be.greaterThan(0);
    expect(alive(serverPid)).to.equal(true);
    const parentGone = once(parent, 'exit');
    parent.kill('SIGKILL');
    await parentGone;
    expect(await until(() => !alive(serverPid), 8000), `server ${serverPid} outlived its parent`).to.equal(true);
  });

  it('stops a server on request and lets a stopped one be', async () => {
    const server = startManagedProcess('sleep', ['300']);
    const pid = server.child.pid!;
    expect(alive(pid)).to.equal(true);
    await server.stop();
    expect(alive(pid)).to.equal(false);
    await server.stop();
  });
});
