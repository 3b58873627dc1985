import { readdirSync, readFileSync } from 'node:fs';
import { processIds, readProcStat, TICKS_PER_SECOND } from '../lib/cpu.ts';

/**
 * Facts about this process that bench/lib/cpu.ts does not break down: which storage our embedded
 * FerretDB uses (PostgreSQL when one is reachable at start, SQLite otherwise: the figures differ a
 * lot, and the choice can change from one run to the next), and how this process's CPU splits
 * between the thread serving HTTP (the app) and the rest (the callers' thread, GC and I/O helpers).
 * Linux /proc only; elsewhere both answer undefined.
 */

/** `postgresql` or `sqlite` for a FerretDB child of this process, undefined when there is none. */
export function ferretStorage(): string | undefined {
  try {
    for (const pid of processIds()) {
      const stat = readProcStat(`/proc/${pid}/stat`);
      if (stat?.ppid !== process.pid || !stat.comm.startsWith('ferretdb')) continue;
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args.find((arg) => arg.startsWith('--handler='))?.slice('--handler='.length);
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/** CPU seconds (user + system) of this process's main thread and of all its other threads. */
export function threadCpu(): { main: number; others: number } | undefined {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readProcStat(`/proc/self/task/${tid}/stat`);
      if (!stat) continue;
      const seconds = stat.cpuTicks / TICKS_PER_SECOND;
      if (Number(tid) === process.pid) main += seconds;
      else others += seconds;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}
