/** `mode repair`: select pool inputs for the buggy labels, retrain, and compare with random selection. */
import type { Command } from 'commander';
import path from 'node:path';
import { DEFAULT_DETECT_ROWS_PER_LABEL, LAYER_SELECTION_RULES } from '../../analysis/index.js';
import { ModeError, oneOf } from '../../core/errors.js';
import { checkOutputFolder, writeJson, writeOutputFolder } from '../../core/output-folder.js';
import {
  DEFAULT_ALPHA,
  DEFAULT_BATCH,
  DEFAULT_DELTA,
  DEFAULT_FINE_TUNE_EPOCHS,
  DEFAULT_ITERATIONS,
  RETRAIN_REGIMES,
  type RepairConfigInput,
} from '../../experiment/repair-config.js';
import { REPAIR_FILE } from '../../experiment/repair-doc.js';
import { repairModel, type RepairModelOptions, type RepairRun } from '../../experiment/repair-run.js';
import type { ProgressCallback } from '../../core/progress.js';
import type { Engine } from '../../engine/index.js';
import { parseStrategy, type SettingValues } from '../../select/strategies.js';
import { slidesTable } from '../../report/terminal.js';
import {
  floatOption,
  shareOption,
  intOption,
  modelSeed,
  NORMALIZE_HELP,
  normalizeOption,
  printJson,
  startEngine,
  type GlobalOptions,
} from '../common.js';
import { progressReporter } from '../progress.js';
import { addAnalysisOptions, addStrategyOptions, strategySettingFlags } from '../strategy-options.js';
import { DEFAULT_VALIDATION_SHARE } from '../../model/labeled-data.js';
import { repairWithLabels } from './repair-add.js';

interface RepairFlags {
  model: string;
  dataset?: string;
  data?: string;
  add?: string;
  pool?: string;
  queue?: string;
  validationShare: number;
  normalize?: string;
  strategy: string;
  compare?: string;
  iterations: number;
  batch: number;
  alpha: number;
  budget?: number;
  retrain: string;
  fineTuneEpochs: number;
  layerSelection: string;
  layerOnce?: boolean;
  headRows: number;
  detectRows: number;
  theta: number;
  gamma: number;
  delta: number;
  rollback?: boolean;
  earlyStop: boolean;
  seed?: number;
  out?: string;
  force?: boolean;
}

export function registerRepair(program: Command): void {
  const repair = program
    .command('repair')
    .description("repair a model's buggy labels by selecting pool inputs, against random selection at the same budget")
    .requiredOption(
      '--model <dir|file>',
      'a model folder written by `mode train` (or any tfjs Layers model folder), or a .onnx, .keras or .h5 model file',
    )
    .option('--dataset <spec>', 'dataset (default: the one the model was trained on)')
    .option('--add <labels>', "fold a labeler's answers in: a CSV of file,label (queue.csv filled in) or a folder of class subfolders")
    .option('--data <spec>', 'with --add: your labeled data (split into train and validation as `mode select` did)')
    .option('--pool <spec>', 'with --add and a CSV: the pool the queue came from')
    .option('--queue <dir>', 'with --add: refuse inputs the queue (a `mode select` folder) did not ask for')
    .option(
      '--validation-share <x>',
      'with --add: share of the labeled data held out as validation',
      shareOption('--validation-share'),
      DEFAULT_VALIDATION_SHARE,
    )
    .option('--normalize <spec>', `${NORMALIZE_HELP} (default: the model's)`, normalizeOption);
  addStrategyOptions(repair);
  repair
    .option('--compare <list>', 'more strategies from the same start, e.g. targeted-random,entropy,mode:dhm:least')
    .option('--iterations <n>', 'iterations T', intOption('--iterations', 1), DEFAULT_ITERATIONS)
    .option('--batch <n>', 'inputs selected per iteration B', intOption('--batch', 1), DEFAULT_BATCH)
    .option('--alpha <x>', 'targeted share of each batch, in [0, 1]', floatOption('--alpha', 0, 1), DEFAULT_ALPHA)
    .option('--budget <n>', 'total inputs to select (sets --iterations to budget / batch)', intOption('--budget', 1))
    .option('--retrain <regime>', RETRAIN_REGIMES.join(' | '), 'cumulative')
    .option('--fine-tune-epochs <n>', 'epochs of each retraining', intOption('--fine-tune-epochs', 1), DEFAULT_FINE_TUNE_EPOCHS)
    .option('--layer-once', 'choose the target layer once, not every iteration')
    .option(
      '--detect-rows <n>',
      'after each retraining, measure training accuracy for bug detection on at most N inputs per label (0: on every input)',
      intOption('--detect-rows', 0),
      DEFAULT_DETECT_ROWS_PER_LABEL,
    );
  addAnalysisOptions(repair)
    .option(
      '--delta <x>',
      "no-regression guard: largest allowed drop of another label's validation accuracy",
      floatOption('--delta', 0, 1),
      DEFAULT_DELTA,
    )
    .option('--rollback', 'undo an iteration that breaks the no-regression guard')
    .option('--no-early-stop', 'spend the whole budget even when no buggy label remains (comparisons at equal budget)')
    .option('--seed <n>', "root seed of the repair (default: the model's seed)", intOption('--seed', 0, 0xffffffff))
    .option('--out <dir>', 'output folder for repair.json')
    .option('--force', 'replace an existing output folder')
    .action(async (flags: RepairFlags & SettingValues, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if (flags.add !== undefined) {
        await addLabels(flags, globals);
        return;
      }
      for (const only of ['data', 'pool', 'queue'] as const) {
        if (flags[only] !== undefined)
          throw new ModeError('usage', `--${only} goes with --add (fold new labels in); drop it, or add --add`);
      }
      // Every setting flag is checked, whichever strategy uses it.
      const settings = strategySettingFlags(flags);
      const strategy = parseStrategy(flags.strategy, settings);
      const compare = (flags.compare ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .map((s) => parseStrategy(s, settings));
      const retrain = oneOf('retraining regime', flags.retrain, RETRAIN_REGIMES);
      const layerSelection = oneOf('layer selection', flags.layerSelection, LAYER_SELECTION_RULES);
      if (flags.out === undefined)
        throw new ModeError('usage', 'missing --out <dir>: the folder for repair.json, e.g. --out runs/mlp-repair');
      const out = flags.out;
      checkOutputFolder(out, flags.force === true);
      let iterations = flags.iterations;
      if (flags.budget !== undefined) {
        if (flags.budget % flags.batch !== 0)
          throw new ModeError('usage', `--budget ${flags.budget} is not a multiple of --batch ${flags.batch}`);
        iterations = flags.budget / flags.batch;
      }
      const progress = progressReporter({ quiet: globals.quiet === true });
      const engine = await startEngine(globals);
      const input: Omit<RepairConfigInput, 'seed'> = {
        strategy,
        compare,
        iterations,
        batch: flags.batch,
        alpha: flags.alpha,
        retrain,
        fineTuneEpochs: flags.fineTuneEpochs,
        layerSelection,
        layerOnce: flags.layerOnce === true,
        headRowsPerLabel: flags.headRows,
        detectRowsPerLabel: flags.detectRows,
        theta: flags.theta,
        gamma: flags.gamma,
        delta: flags.delta,
        rollback: flags.rollback === true,
        earlyStop: flags.earlyStop,
      };
      const seed = flags.seed ?? (await modelSeed(flags.model));
      process.stderr.write(`mode repair: seed ${seed}\n`);
      const run = await repairToFolder(engine, flags.model, { ...input, seed }, out, flags.force === true, progress.callback, {
        ...(flags.dataset !== undefined ? { dataset: flags.dataset } : {}),
        ...(flags.normalize !== undefined ? { normalize: flags.normalize } : {}),
      });
      progress.stop();
      if (globals.json === true) {
        printJson({ out: path.resolve(out), table: run.result.rows, timings: run.manifest.timings });
        return;
      }
      process.stdout.write(formatRepair(run, flags.model, out));
    });
}

/** `mode repair --add`: the labeled data is --data (or --dataset), and the output folder is required. */
async function addLabels(flags: RepairFlags, globals: GlobalOptions): Promise<void> {
  const data = flags.data ?? flags.dataset;
  if (data === undefined)
    throw new ModeError('usage', 'missing --data <spec>: the labeled data `mode select` analysed, e.g. --data images:labeled');
  if (flags.out === undefined)
    throw new ModeError('usage', 'missing --out <dir>: the folder for the repaired model, e.g. --out runs/repaired');
  checkOutputFolder(flags.out, flags.force === true);
  const progress = progressReporter({ quiet: globals.quiet === true });
  const engine = await startEngine(globals);
  const seed = flags.seed ?? (await modelSeed(flags.model));
  process.stderr.write(`mode repair --add: seed ${seed}\n`);
  await repairWithLabels(
    engine,
    {
      model: flags.model,
      data,
      add: flags.add!,
      ...(flags.pool === undefined ? {} : { pool: flags.pool }),
      ...(flags.queue === undefined ? {} : { queue: flags.queue }),
      fineTuneEpochs: flags.fineTuneEpochs,
      delta: flags.delta,
      validationShare: flags.validationShare,
      ...(flags.normalize === undefined ? {} : { normalize: flags.normalize }),
      seed,
      out: flags.out,
      force: flags.force === true,
      json: globals.json === true,
    },
    progress.callback,
  );
  progress.stop();
}

/** Repairs a model folder and writes repair.json and manifest.json into `out`. */
export async function repairToFolder(
  engine: Engine,
  modelDir: string,
  input: RepairConfigInput,
  out: string,
  force: boolean,
  onProgress: ProgressCallback,
  data: Pick<RepairModelOptions, 'dataset' | 'normalize'> = {},
): Promise<RepairRun> {
  const run = await repairModel(modelDir, engine, input, { onProgress, ...data });
  await writeOutputFolder(out, force, async (dir) => {
    await writeJson(path.join(dir, REPAIR_FILE), run.json);
    await writeJson(path.join(dir, 'manifest.json'), run.manifest);
  });
  return run;
}

export function formatRepair(run: RepairRun, modelDir: string, out: string): string {
  const c = run.config;
  return [
    `repair of ${modelDir}: ${c.iterations} iterations x batch ${c.batch}, alpha ${c.alpha}, ${c.retrain} retraining, ` +
      `seed ${c.seed} (test accuracy; decisions used validation only)`,
    slidesTable(
      run.result.rows,
      run.result.arms.map((a) => a.seconds),
    ),
    '',
    `wrote ${path.join(out, REPAIR_FILE)}`,
    '',
  ].join('\n');
}
