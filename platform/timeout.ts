/**
 * `promise`, or a rejection with `timeoutError()` once `ms` pass first: for a call to a backing
 * service that may never answer (a start-up that hangs, a Redis that is down). The timer is cleared
 * either way, so a settled call never holds the process open. The work itself is not cancelled.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, timeoutError: () => Error = () => new Error(`no answer within ${ms} ms`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError()), ms);
    }),
  ]);
}
