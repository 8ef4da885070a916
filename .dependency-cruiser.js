/**
 * Layer rules for apps/ and libs/, checked by `npm run lint` (depcruise apps libs --config .dependency-cruiser.js).
 * Any `error` violation makes depcruise exit non-zero.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cross-app-imports',
      severity: 'error',
      comment: 'A service never imports another service: they talk over NATS, and whatever crosses the boundary lives in libs/contracts.',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-not-to-apps',
      severity: 'error',
      comment: 'Libraries are shared by every service and must not depend on any of them.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'contracts-import-only-validators',
      severity: 'error',
      comment:
        'libs/contracts crosses every process boundary, so it imports nothing but itself, the schema builder ' +
        '(TypeBox: one definition gives the JSON schema and the TypeScript type), the validators (ajv, ' +
        'ajv-formats) and Node built-ins: no other lib, no framework, no driver.',
      from: { path: '^libs/contracts/' },
      to: {
        pathNot: ['^libs/contracts/', '(^|/)node_modules/@sinclair/typebox/', '(^|/)node_modules/ajv/', '(^|/)node_modules/ajv-formats/'],
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'access-model-is-pure',
      severity: 'error',
      comment:
        'libs/access-model is the pure organization access state and its rules (one fold, grants), shared by ' +
        'membership (its decider) and authorization (its view): it imports libs/contracts only, no framework, driver or I/O.',
      from: { path: '^libs/access-model/', pathNot: '\\.spec\\.ts$' },
      to: { pathNot: ['^libs/access-model/', '^libs/contracts/'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Circular dependencies make module load order fragile and layers meaningless.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'production-not-to-testing',
      severity: 'error',
      comment: 'libs/testing (real MongoDB + NATS for tests, spec helpers) is for *.spec.ts and *.int-spec.ts only.',
      from: {
        path: '^(apps|libs)/',
        pathNot: ['\\.spec\\.ts$', '\\.int-spec\\.ts$', '^libs/testing/'],
      },
      to: { path: '^libs/testing/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // anchored on purpose: node_modules/ajv/dist/... must stay visible to the rules above
    exclude: { path: '^(dist|\\.data|\\.tools|coverage)/' },
    // type-only imports count too: `import type` from a forbidden layer is still a dependency on it
    tsPreCompilationDeps: true,
    // resolves the @app/* path aliases
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
