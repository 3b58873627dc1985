// Root hooks: shared infrastructure is started lazily by test/support/infra.ts and stopped once here.
// A static import on purpose: mocha loads the suites through tsx's require hook, and an `await
// import()` here would load a second copy of infra.ts whose servers were never started (so stopped
// nothing), compiling the whole platform again inside the hook's timeout.
import { stopSharedInfrastructure } from './infra.ts';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    // FerretDB, s3rver and the SMTP server each finish what they were doing first.
    this.timeout(60_000);
    await stopSharedInfrastructure();
  },
};
