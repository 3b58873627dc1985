import { startManagedProcess } from '../../platform/embedded/process.ts';

/**
 * A stand-in for a mintdesk process that started an embedded server: it starts `sleep`, prints its
 * pid and waits to be killed (embedded-process.test.ts kills it with SIGKILL).
 */
const server = startManagedProcess('sleep', ['300']);
process.stdout.write(`${server.child.pid}\n`);
setInterval(() => undefined, 60_000);
