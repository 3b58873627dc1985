import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findExecutable(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(delimiter)];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface ManagedProcess {
  child: ChildProcess;
  /** Last lines of output, for an error message when it dies at start. */
  recentOutput(): string;
  stop(): Promise<void>;
}

/** Starts a helper server as a child that dies with us (SIGTERM on stop, SIGKILL after a grace period). */
export function startManagedProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ManagedProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const watchdog = startWatchdog(child);
  return {
    child,
    recentOutput: () => lines.join('\n'),
    stop: () =>
      new Promise((resolve) => {
        process.removeListener('exit', killOnExit);
        watchdog?.kill();
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/**
 * 'exit' handlers do not run when this process is killed by a signal (a CI timeout, Ctrl-C on the
 * test runner, `kill`), and Linux does not end children with their parent: a FerretDB or
 * redis-server would live on, holding memory and CPU. A shell waits on a pipe only this process
 * holds; the pipe closes when this process dies, however it dies, and the shell then ends the
 * server. It is stopped as soon as the server exits, so it never signals a reused process id.
 */
function startWatchdog(server: ChildProcess): ChildProcess | undefined {
  if (process.platform === 'win32' || server.pid === undefined) return undefined;
  const watchdog = spawn('/bin/sh', ['-c', 'read _ ; kill -TERM "$0" 2>/dev/null; sleep 5; kill -KILL "$0" 2>/dev/null', String(server.pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.on('error', () => undefined);
  watchdog.stdin?.on('error', () => undefined);
  // Neither the watchdog nor its pipe may keep this process alive.
  watchdog.unref();
  (watchdog.stdin as unknown as { _handle?: { unref?: () => void } } | null)?._handle?.unref?.();
  server.once('exit', () => watchdog.kill());
  return watchdog;
}
