/**
 * mode as a library: train a model with a training bug, analyse it, repair it, from TypeScript.
 * The test suite runs this file (src/library-example.test.ts), so it keeps working as the API changes.
 *
 *   npm run build && node dist/examples/library.js [OUT_DIR] [ENGINE]
 *
 * It uses a small synthetic dataset so it runs in seconds (label 1 starved to 15%); `dataset: 'mnist'` (and no sizes) is the
 * real thing. Everything here comes from the package's public API ('mode-debugger').
 */
import path from 'node:path';
import {
  analyzeModel,
  createEngine,
  formatStrategy,
  repairModel,
  resolveTrainConfig,
  saveModelFolder,
  strategySpec,
  trainModel,
  type EngineName,
} from 'mode-debugger';

const out = process.argv[2] ?? 'runs/library-example';
const engine = await createEngine((process.argv[3] ?? 'auto') as EngineName);

// 1. Train: a small MLP whose training split keeps 15% of label 1 (a starved label: underfitting).
const config = resolveTrainConfig({
  dataset: 'synthetic:classes=3,size=8,n=1600,noise=0.45',
  model: 'mlp',
  epochs: 3,
  seed: 7,
  trainSize: 600,
  validationSize: 300,
  poolSize: 500,
  scenarios: { starve: '1:0.15' },
});
const trained = await trainModel(config, { engine });
const modelDir = path.join(out, 'model');
await saveModelFolder(modelDir, trained.model, trained.manifest, trained.metrics);
console.log(`trained on ${engine.info.name}: test accuracy ${trained.metrics.test.accuracy.toFixed(3)}`);

// 2. Analyse: which labels are buggy, where each bug starts, and the heat maps there.
const analysis = await analyzeModel(engine, trained.model, trained.data.train, trained.data.validation, { seed: config.seed });
for (const target of analysis.targets) {
  const maps = analysis.maps.find((m) => m.label === target.label)!;
  console.log(
    `label ${target.label}: ${target.kind}, starts at ${target.layerName}; ` +
      `maps over ${maps.counts.correct} correct and ${maps.counts.missed} missed inputs, most confused with ${maps.confusedWith}`,
  );
}
trained.model.dispose();

// 3. Repair the saved model: MODE's default reading against targeted-random and the random control, same budget.
const repair = await repairModel(modelDir, engine, {
  strategy: strategySpec('mode'),
  compare: [strategySpec('targeted-random')],
  iterations: 2,
  batch: 40,
  earlyStop: false,
  seed: config.seed,
});
for (const row of repair.result.rows) {
  console.log(
    `${row.strategy}: test accuracy ${row.initialAcc.toFixed(3)} -> ${row.finalAcc.toFixed(3)} (control ${row.controlAcc.toFixed(3)})`,
  );
}
console.log(`default strategy: ${formatStrategy(repair.config.strategy)}`);
