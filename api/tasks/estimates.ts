/**
 * Expected wait from measured handle times (pure). With `slots` concurrent places among available
 * agents and a mean handle time, places free up at slots / handle time; a task at `position` waits
 * for the places ahead of it beyond those free now.
 */
export function expectedWaitSeconds(input: { position: number; slots: number; free: number; averageHandleMs: number }): number {
  const { position, slots, free, averageHandleMs } = input;
  if (position <= free) return 0;
  const ahead = position - free;
  return Math.ceil((ahead * averageHandleMs) / Math.max(1, slots) / 1000);
}

/** Mean of the measured values, or undefined with none. */
export function averageMs(values: number[]): number | undefined {
  const valid = values.filter((v) => Number.isFinite(v) && v >= 0);
  if (!valid.length) return undefined;
  return valid.reduce((sum, v) => sum + v, 0) / valid.length;
}
