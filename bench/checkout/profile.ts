import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';

/**
 * Round-trip accounting for the checkout path: every Mongo command (by collection and command
 * name) and every Redis command the runtime sends, with the time each took. The benchmark prints
 * it per placed order, which shows where a checkout spends its time and which round trips are
 * redundant, without a profiler attached.
 */
export interface RoundTripStats {
  /** `mongo insert orders`, `redis evalsha`... -> count and total ms. */
  byOperation: Map<string, { count: number; totalMs: number }>;
  reset(): void;
  stop(): void;
}

export function traceRoundTrips({ mongo, redis }: { mongo: Connection; redis: Record<string, Redis> }): RoundTripStats {
  const byOperation = new Map<string, { count: number; totalMs: number }>();
  const add = (name: string, ms: number) => {
    const entry = byOperation.get(name) ?? { count: 0, totalMs: 0 };
    entry.count += 1;
    entry.totalMs += ms;
    byOperation.set(name, entry);
  };

  // Mongo commands are only reported when the runtime was started with monitorMongoCommands.
  const client = mongo.getClient();
  const started = new Map<number, string>();
  const onStarted = (event: { requestId: number; commandName: string; command: Record<string, unknown> }) => {
    const collection = event.command[event.commandName];
    started.set(event.requestId, `mongo ${event.commandName} ${typeof collection === 'string' ? collection : ''}`.trim());
  };
  const onFinished = (event: { requestId: number; duration: number }) => {
    const name = started.get(event.requestId);
    started.delete(event.requestId);
    if (name) add(name, event.duration);
  };
  client.on('commandStarted', onStarted);
  client.on('commandSucceeded', onFinished);
  client.on('commandFailed', onFinished);

  // ioredis funnels every command, pipelined or not, through sendCommand.
  const restore: (() => void)[] = [];
  for (const [label, connection] of Object.entries(redis)) {
    const original = connection.sendCommand;
    connection.sendCommand = ((command: { name: string; promise: Promise<unknown> }, ...rest: unknown[]) => {
      const t0 = performance.now();
      const done = () => add(`${label} ${command.name}`, performance.now() - t0);
      command.promise.then(done, done);
      return (original as (...args: unknown[]) => unknown).call(connection, command, ...rest);
    }) as typeof connection.sendCommand;
    restore.push(() => {
      connection.sendCommand = original;
    });
  }

  return {
    byOperation,
    reset: () => byOperation.clear(),
    stop() {
      client.off('commandStarted', onStarted);
      client.off('commandSucceeded', onFinished);
      client.off('commandFailed', onFinished);
      for (const undo of restore) undo();
    },
  };
}
