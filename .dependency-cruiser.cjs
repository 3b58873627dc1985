/**
 * The layer rules of docs/ARCHITECTURE.md, checked on every import (type-only imports included):
 * `npm run deps:check`, which `npm run lint` and CI run. Each rule names the layer it protects;
 * a violation prints the importing file, the imported file and the rule's comment.
 *
 *   platform  <-  api  <-  ivr, agent-console, workers, recordings  <-  apps  <-  cli  <-  bin
 *
 * test/, bench/ and scripts/ may import anything (and test/ and bench/ share helpers both ways);
 * nothing in production imports them.
 */
const PRODUCTION = '^(platform|api|ivr|agent-console|workers|recordings|apps|cli|bin)/';

module.exports = {
  forbidden: [
    {
      name: 'platform-imports-only-platform',
      comment: 'platform/ is the infrastructure every layer builds on (config, connections, errors, queues, events): it knows no domain, adapter or process.',
      severity: 'error',
      from: { path: '^platform/' },
      to: { path: '^(api|ivr|agent-console|workers|recordings|apps|cli|bin|test|bench|scripts)/' },
    },
    {
      name: 'api-imports-only-api-and-platform',
      comment: 'api/ holds the domains (schemas, models, services, routes). The phone network, the console sockets, the workers and the composition root sit above it and are handed in (api/services.ts takes its adapters).',
      severity: 'error',
      from: { path: '^api/' },
      to: { path: '^(ivr|agent-console|workers|recordings|apps|cli|bin|test|bench|scripts)/' },
    },
    {
      name: 'adapters-import-only-api-and-platform',
      comment: 'ivr/, agent-console/, workers/ and recordings/ call the domain services; they do not reach into each other or into the composition root (apps/ wires them together).',
      severity: 'error',
      from: { path: '^(ivr|agent-console|workers|recordings)/' },
      to: { path: '^(ivr|agent-console|workers|recordings|apps|cli|bin|test|bench|scripts)/', pathNot: '^$1/' },
    },
    {
      name: 'apps-are-not-imported-by-their-parts',
      comment: 'apps/ is the composition root (one main.ts per process); only cli/ starts it.',
      severity: 'error',
      from: { path: '^apps/' },
      to: { path: '^(cli|bin|test|bench|scripts)/' },
    },
    {
      name: 'cli-is-below-bin-only',
      comment: 'cli/ parses arguments and runs admin commands; it starts processes through apps/.',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^(bin|test|bench|scripts)/' },
    },
    {
      name: 'phone-simulator-is-development-wiring-only',
      comment: 'The phone simulator is a development adapter of the phone network: production code reaches it only through apps/dev/phone-simulator.ts. Twilio signature checking lives in ivr/signature.ts.',
      severity: 'error',
      from: { path: PRODUCTION, pathNot: '^(ivr/simulator|apps/dev)/' },
      to: { path: '^ivr/simulator/' },
    },
    {
      name: 'no-cycle-between-top-level-folders',
      comment: 'Top-level production folders form layers; a cycle between two of them means one of them is in the wrong place.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^(platform|api|ivr|agent-console|workers|recordings|apps|cli|bin)$' },
      to: { circular: true, path: '^(platform|api|ivr|agent-console|workers|recordings|apps|cli|bin)$' },
    },
    {
      name: 'no-runtime-module-cycle',
      comment: 'A cycle of runtime imports makes load order matter (a binding read before it is initialised). Cycles closed only by a type import are erased at run time and allowed.',
      severity: 'error',
      from: { path: PRODUCTION },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['^(node_modules|\\.data|\\.tools)/', '/public/'] },
    // Type-only imports are dependencies too: a layer must not even name a type from above it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
