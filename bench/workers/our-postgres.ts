import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { processIds, readProcStat, TICKS_PER_SECOND } from '../lib/cpu.ts';

/**
 * CPU of the PostgreSQL backends that serve *our* FerretDB, from /proc. bench/lib/cpu.ts can only
 * report PostgreSQL as a whole, and on a machine shared with other benchmarks most of that may be
 * theirs. A backend's process title names its client's address ("postgres: ... 127.0.0.1(38612)
 * idle"); the port is ours when one of our FerretDB child's sockets is bound to it.
 * Linux only; elsewhere it returns undefined and the tables skip the row.
 */

export type BackendSample = Map<number, number>;

export function sampleOurPostgres(): BackendSample | undefined {
  try {
    const ports = ourFerretPorts();
    const sample: BackendSample = new Map();
    for (const pid of processIds()) {
      try {
        const stat = readProcStat(`/proc/${pid}/stat`);
        if (!stat?.comm.startsWith('postgres')) continue;
        const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const port = /127\.0\.0\.1\((\d+)\)/.exec(title)?.[1];
        if (!port || !ports.has(Number(port))) continue;
        sample.set(pid, stat.cpuTicks);
      } catch {
        // the process ended while we looked
      }
    }
    return sample;
  } catch {
    return undefined;
  }
}

/** CPU seconds our backends used between two samples; a backend started in between counts in full. */
export function ourPostgresSeconds(before: BackendSample | undefined, after: BackendSample | undefined): number | undefined {
  if (!before || !after) return undefined;
  let jiffies = 0;
  for (const [pid, now] of after) jiffies += Math.max(0, now - (before.get(pid) ?? 0));
  return jiffies / TICKS_PER_SECOND;
}

/** Local ports of the TCP sockets held by FerretDB processes this process started. */
function ourFerretPorts(): Set<number> {
  const inodes = new Set<string>();
  for (const pid of processIds()) {
    try {
      const stat = readProcStat(`/proc/${pid}/stat`);
      if (!stat?.comm.startsWith('ferretdb') || stat.ppid !== process.pid) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' });
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode) inodes.add(inode);
      }
    } catch {
      // not ours to read, or gone
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols[1] local address:port in hex, cols[9] inode
      if (cols.length > 9 && inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}
