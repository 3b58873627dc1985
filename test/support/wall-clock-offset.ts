/**
 * Runs the suite as if today were another day: `TEST_WALL_CLOCK_OFFSET_DAYS=365 npm test`.
 * The suite must not depend on the date it runs on (fixtures once took the wall clock while the
 * code under test ran on a fixed clock, and main broke when the calendar passed that date).
 * Only this Node process's clock moves; FerretDB, Redis and Chromium keep theirs, which is why
 * this is done here rather than with libfaketime (its LD_PRELOAD follows every child process).
 */
const offsetDays = Number(process.env.TEST_WALL_CLOCK_OFFSET_DAYS ?? 0);
if (!Number.isFinite(offsetDays)) throw new Error('TEST_WALL_CLOCK_OFFSET_DAYS must be a number of days');

if (offsetDays !== 0) {
  const offsetMs = offsetDays * 86_400_000;
  const RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offsetMs);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return RealDate.now() + offsetMs;
    }
  }
  // Dates made before the shift (none in practice: this loads first) still pass `instanceof Date`.
  // Libraries recognise Date by name (mongoose schema types do).
  Object.defineProperty(ShiftedDate, 'name', { value: 'Date' });
  Object.defineProperty(ShiftedDate, Symbol.hasInstance, { value: (value: unknown) => value instanceof RealDate });
  globalThis.Date = ShiftedDate as DateConstructor;
}
