/**
 * The layering of src/, checked on every `npm test` (npm run check:deps). docs/architecture.md says
 * the same in prose. Layers, lowest first; a module imports only from its own layer or lower ones:
 *
 *   core < engine < data < model < analysis < select < experiment < report < cli
 *
 * Besides: only src/engine/ touches an engine library (TensorFlow.js); report/ renders and never runs
 * an engine; nothing imports the command line; bench/ uses the public API (src/index.ts) only;
 * test harnesses and fixtures are for tests; no cycles.
 */
const LAYERS = ['core', 'engine', 'data', 'model', 'analysis', 'select', 'experiment', 'report', 'cli'];
const TEST_SUPPORT = '(\\.test|-harness|-contract|\\.fixture)\\.ts$';

/** For each layer, a rule forbidding imports from every layer above it (tests may reach higher layers, to check what users see). */
const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ imports only from ${LAYERS.slice(0, i + 1).join(', ')} (the layers at or below it)`,
  severity: 'error',
  from: { path: `^src/${layer}/`, pathNot: '\\.test\\.ts$' },
  to: { path: `^src/(${LAYERS.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'no import cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-libraries-in-engine-only',
      comment: 'only src/engine/ imports TensorFlow.js; everything else talks to the Engine interface',
      severity: 'error',
      from: { pathNot: '^src/engine/' },
      to: { path: 'node_modules/@tensorflow/' },
    },
    {
      name: 'report-runs-no-engine',
      comment: 'report/ renders documents and results; it never loads models or runs an engine',
      severity: 'error',
      from: { path: '^src/report/' },
      to: { path: '^src/(engine|model)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'bench-uses-the-public-api',
      comment: 'bench/ imports the library through src/index.ts, as a user would',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^src/', pathNot: '^src/index\\.ts$' },
    },
    {
      name: 'test-support-for-tests-only',
      comment: 'test harnesses and fixtures are imported by tests and other test support only',
      severity: 'error',
      from: { path: '^src/', pathNot: TEST_SUPPORT },
      to: { path: TEST_SUPPORT },
    },
  ],
  options: {
    // dist/ is the build of src/ (reached through examples' self-import 'mode-debugger'): the rules hold for src/.
    doNotFollow: { path: ['node_modules', '^dist/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
