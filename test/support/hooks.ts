// Root hooks: shared infrastructure is started lazily by test/support/infra.ts and stopped once here.
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    const { stopSharedInfrastructure } = await import('./infra.ts');
    await stopSharedInfrastructure();
  },
};
