import { readdirSync, readFileSync } from 'node:fs';

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
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue;
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid || !stat.includes('(ferretdb')) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
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
      let stat: string;
      try {
        stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      } catch {
        continue; // the thread ended while we listed
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      if (Number(tid) === process.pid) main += seconds;
      else others += seconds;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}
