/** One-way dependencies: contracts <- unikernel-runner <- services; no cycles anywhere. */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'contracts-are-the-bottom', severity: 'error', from: { path: '^contracts/', pathNot: '\\.test\\.ts$' }, to: { path: '^(unikernel-runner|services|test)/' } },
    { name: 'runner-below-services', severity: 'error', from: { path: '^unikernel-runner/', pathNot: '\\.test\\.ts$' }, to: { path: '^(services|test)/' } },
    {
      name: 'client-stands-alone', severity: 'error', comment: 'integrators import the client: it uses the wire types and the runtime, never the server',
      from: { path: '^services/client/', pathNot: '\\.test\\.ts$' }, to: { path: '^services/', pathNot: '^services/client/' },
    },
    {
      name: 'cli-is-an-entry-point', severity: 'error', comment: 'the CLI starts processes from the parts (services/node assembles a node); no part depends on it',
      from: { path: '^services/', pathNot: '^services/cli/' }, to: { path: '^services/cli/' },
    },
    { name: 'services-not-tests', severity: 'error', from: { path: '^services/', pathNot: '\\.test\\.ts$' }, to: { path: '^test/' } },
    { name: 'no-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
  },
};
