#!/usr/bin/env node
// Runs the TypeScript CLI directly: Node 22.18 and later strip the types themselves, so there is no
// build step and no loader to forget (tsconfig's erasableSyntaxOnly keeps the code strippable).
if (!process.features.typescript) {
  console.error(`mintdesk needs Node 24 (22.18 at the least) to run TypeScript; this is Node ${process.version}.`);
  console.error('On Linux: scripts/install-node.sh && export PATH="$PWD/.tools/node/bin:$PATH"');
  process.exit(1);
}
await import('../cli/mintdesk.ts');
