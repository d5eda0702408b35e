/** `mode train`: train a classifier (optionally with a bug scenario) and write a model folder. */
import type { Command } from 'commander';
import path from 'node:path';
import { writeOutputFolder, checkOutputFolder } from '../../core/output-folder.js';
import { ModeError } from '../../core/errors.js';
import { describeZodError } from '../../model/architectures.js';
import { saveModelFolder, type ModelManifest, type ModelMetrics } from '../../model/model-folder.js';
import { parseScenarios, scenarioLabels } from '../../model/prepare-data.js';
import type { TrainConfig } from '../../model/train-config.js';
import type { Engine } from '../../engine/index.js';
import type { ProgressCallback } from '../../core/progress.js';
import { TrainConfigSchema } from '../../model/train-config.js';
import { trainModel } from '../../model/train.js';
import { perLabelTable, pct } from '../../report/terminal.js';
import { floatOption, intOption, NORMALIZE_HELP, normalizeOption, printJson, startEngine, type GlobalOptions } from '../common.js';
import { progressReporter } from '../progress.js';

interface TrainFlags extends GlobalOptions {
  dataset: string;
  normalize?: string;
  model: string;
  epochs?: number;
  batchSize?: number;
  optimizer?: string;
  learningRate?: number;
  seed?: number;
  trainSize?: number;
  validationSize?: number;
  poolSize?: number;
  starve?: string;
  small?: string;
  noise?: string;
  out?: string;
  force?: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a classifier on a dataset, optionally with a bug scenario, and write a model folder')
    .option('--dataset <spec>', 'mnist | fashion-mnist | idx:DIR | images:DIR | npz:FILE | npy:X.npy,Y.npy | synthetic[:...]', 'mnist')
    .option('--normalize <spec>', `${NORMALIZE_HELP} (default unit)`, normalizeOption)
    .option('--model <name|file.json>', 'mlp | cnn | lenet | mlp28 | tiny | an architecture spec .json', 'mlp')
    .option('--epochs <n>', 'training epochs (default 3)', intOption('--epochs', 1))
    .option('--batch-size <n>', 'batch size (default 64)', intOption('--batch-size', 1))
    .option('--optimizer <name>', 'adam | sgd (default adam)')
    .option('--learning-rate <x>', 'learning rate (default 0.001)', floatOption('--learning-rate', 1e-12, 10))
    .option('--seed <n>', 'root seed (default 1)', intOption('--seed', 0, 0xffffffff))
    .option('--train-size <n>', 'training split size (default 30000 of a 60k file)', intOption('--train-size', 1))
    .option('--validation-size <n>', 'validation split size (default 5000)', intOption('--validation-size', 0))
    .option('--pool-size <n>', 'pool split size (default 25000)', intOption('--pool-size', 0))
    .option('--starve <labels:fraction>', "keep a fraction of these labels' training examples, e.g. 3,8:0.02")
    .option('--small <n>', 'train on only N examples (overfitting)')
    .option('--noise <label:fraction>', "relabel a fraction of a label's examples, e.g. 5:0.3")
    .option('--out <dir>', 'output model folder (refused if it exists, unless --force)')
    .option('--force', 'replace an existing output folder')
    .action(async (flags: TrainFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if (flags.out === undefined)
        throw new ModeError('usage', 'missing --out <dir>: the folder to write the model into, e.g. --out runs/mlp');
      const out = flags.out;
      const input = {
        dataset: flags.dataset,
        normalize: flags.normalize,
        model: flags.model,
        epochs: flags.epochs,
        batchSize: flags.batchSize,
        optimizer: flags.optimizer,
        learningRate: flags.learningRate,
        seed: flags.seed,
        trainSize: flags.trainSize,
        validationSize: flags.validationSize,
        poolSize: flags.poolSize,
        scenarios: { starve: flags.starve, small: flags.small, noise: flags.noise },
        engine: globals.engine,
      };
      const parsed = TrainConfigSchema.safeParse(JSON.parse(JSON.stringify(input)));
      if (!parsed.success) throw new ModeError('usage', `invalid option ${describeZodError(parsed.error)}`);
      const config = parsed.data;
      checkOutputFolder(out, flags.force === true);
      const progress = progressReporter({ quiet: globals.quiet === true });
      process.stderr.write(`mode train: seed ${config.seed}\n`);
      const engine = await startEngine({ ...globals, engine: config.engine });
      const { manifest, metrics } = await trainToFolder(engine, config, out, flags.force === true, progress.callback);
      progress.stop();
      if (globals.json === true) {
        printJson({ out: path.resolve(out), seed: config.seed, manifest, metrics });
        return;
      }
      process.stdout.write(formatTrain(manifest, metrics, out));
    });
}

/** Trains and writes the model folder; returns what was written. */
export async function trainToFolder(
  engine: Engine,
  config: TrainConfig,
  out: string,
  force: boolean,
  onProgress: ProgressCallback,
): Promise<{ manifest: ModelManifest; metrics: ModelMetrics }> {
  const result = await trainModel(config, { engine, onProgress });
  try {
    await writeOutputFolder(out, force, (dir) => saveModelFolder(dir, result.model, result.manifest, result.metrics));
  } finally {
    result.model.dispose();
  }
  return { manifest: result.manifest, metrics: result.metrics };
}

export function formatTrain(manifest: ModelManifest, metrics: ModelMetrics, out: string): string {
  const config = manifest.config;
  const classNames = manifest.data.classNames;
  const marked = scenarioLabels(parseScenarios(config.scenarios));
  return [
    `model ${manifest.architecture.name} on ${manifest.data.name}` +
      `${manifest.data.scenarios.length > 0 ? ` with ${manifest.data.scenarios.join(', ')}` : ''}, seed ${config.seed}`,
    `accuracy: train ${pct(metrics.train.accuracy, 2)}%, validation ${pct(metrics.validation.accuracy, 2)}%, ` +
      `test ${pct(metrics.test.accuracy, 2)}%`,
    '',
    perLabelTable(
      classNames,
      [
        { name: 'train', perLabel: metrics.train.perLabel },
        { name: 'validation', perLabel: metrics.validation.perLabel },
        { name: 'test', perLabel: metrics.test.perLabel },
      ],
      marked,
    ),
    '',
    `wrote ${out} (model.json, weights.bin, manifest.json, metrics.json) in ${Object.values(manifest.timings)
      .reduce((a, b) => a + b, 0)
      .toFixed(1)} s`,
    '',
  ].join('\n');
}
