// Placeholder until the embedded infrastructure module lands; replaced in the foundation commit.
export async function stopSharedInfrastructure(): Promise<void> {}
