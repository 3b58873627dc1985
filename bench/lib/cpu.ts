import { readdirSync, readFileSync } from 'node:fs';

/**
 * Where the CPU went during a measurement, by process group (this Node process, FerretDB,
 * PostgreSQL, Redis, everything else on the machine), from /proc. On a shared 2-core machine this
 * is what tells "the app is slow" apart from "the database took the cores" or "someone else did".
 * Linux only; elsewhere `sample()` returns undefined and the benchmark prints no CPU table.
 */
export interface CpuSample {
  /** Jiffies (clock ticks) per group. */
  byGroup: Map<string, number>;
  /** All jiffies the machine spent busy (not idle or waiting for I/O). */
  machineBusy: number;
  machineTotal: number;
}

export const TICKS_PER_SECOND = 100; // USER_HZ on every Linux we run on

/** One /proc/<pid>/stat or /proc/self/task/<tid>/stat line: undefined when that process or thread ended. */
export interface ProcStat {
  comm: string;
  ppid: number;
  /** utime + stime, in ticks. */
  cpuTicks: number;
}

export function readProcStat(path: string): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return undefined; // it ended while we listed
  }
  // comm is in parentheses and may contain spaces; the fields after it are space separated.
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

/** The process ids in /proc. */
export const processIds = (): number[] => readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);

function groupOf(pid: number, ppid: number, comm: string, self: number): string {
  if (pid === self) return 'this process (node: API + load generator)';
  // The embedded FerretDB is our child; other sessions' FerretDB processes are someone else's load.
  if (comm.startsWith('ferretdb') && ppid === self) return 'ferretdb (ours)';
  // PostgreSQL backends cannot be told apart by client here, so this includes other users of it.
  if (comm.startsWith('postgres')) return 'postgresql (all its clients)';
  if (comm.startsWith('redis-server')) return 'redis';
  return 'everything else';
}

export function sampleCpu(): CpuSample | undefined {
  try {
    const byGroup = new Map<string, number>();
    for (const pid of processIds()) {
      const stat = readProcStat(`/proc/${pid}/stat`);
      if (!stat) continue;
      const group = groupOf(pid, stat.ppid, stat.comm, process.pid);
      byGroup.set(group, (byGroup.get(group) ?? 0) + stat.cpuTicks);
    }
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    const total = cpu.reduce((a, b) => a + b, 0);
    return { byGroup, machineBusy: total - idle, machineTotal: total };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds per group between two samples. Processes that started or ended in between are
 * counted by what they used while alive, so "everything else" is approximate; the machine line
 * is exact.
 */
export function cpuBetween(before: CpuSample, after: CpuSample): { group: string; seconds: number }[] {
  const groups = new Set([...before.byGroup.keys(), ...after.byGroup.keys()]);
  const rows = [...groups].map((group) => ({ group, seconds: Math.max(0, (after.byGroup.get(group) ?? 0) - (before.byGroup.get(group) ?? 0)) / TICKS_PER_SECOND }));
  rows.sort((a, b) => b.seconds - a.seconds);
  rows.push({ group: 'machine busy (all cores)', seconds: (after.machineBusy - before.machineBusy) / TICKS_PER_SECOND });
  rows.push({ group: 'machine capacity (all cores)', seconds: (after.machineTotal - before.machineTotal) / TICKS_PER_SECOND });
  return rows;
}
