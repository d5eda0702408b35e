/**
 * `mode demo`: the whole of MODE on MNIST in a few minutes. Trains an MLP whose training split keeps
 * 2% of the digits 3 and 8, analyses it (buggy labels, target layers, heat maps), repairs it with the
 * default strategy (the benchmark's winner), with MODE's own reading, with targeted-random and with the
 * random control, and prints the table: the paper's method beside what beats it.
 */
import type { Command } from 'commander';
import path from 'node:path';
import { DEFAULT_GAMMA, DEFAULT_EPSILON, DEFAULT_HEAD_ROWS_PER_LABEL, DEFAULT_THETA } from '../../analysis/index.js';
import { TrainConfigSchema } from '../../model/train-config.js';
import { DEFAULT_STRATEGY, strategySpec } from '../../select/strategies.js';
import { intOption, startEngine, type GlobalOptions } from '../common.js';
import { progressReporter } from '../progress.js';
import { analyzeToFolder, formatAnalysis } from './analyze.js';
import { formatRepair, repairToFolder } from './repair.js';
import { writeReport } from './report.js';
import { formatTrain, trainToFolder } from './train.js';

/** The demo's bug: calibration.md's starved-label scenario. */
const DEMO_SCENARIO = '3,8:0.02';
const DEMO_BATCH = 200;

interface DemoFlags {
  seed: number;
  out: string;
  model: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train a buggy MNIST model, analyse it, repair it and compare with random selection (a few minutes)')
    .option('--seed <n>', 'root seed', intOption('--seed', 0, 0xffffffff), 1)
    .option('--model <name>', 'mlp | cnn | lenet', 'mlp')
    .option('--out <dir>', "folder for the demo's model, analysis and repair (replaced on each run)", 'runs/demo')
    .action(async (flags: DemoFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const progress = progressReporter({ quiet: globals.quiet === true });
      const say = (text: string): boolean => process.stdout.write(text);
      const started = performance.now();
      const engine = await startEngine(globals);
      process.stderr.write(`mode demo: seed ${flags.seed}\n`);
      const modelDir = path.join(flags.out, 'model');
      const config = TrainConfigSchema.parse({
        dataset: 'mnist',
        model: flags.model,
        seed: flags.seed,
        scenarios: { starve: DEMO_SCENARIO },
      });
      say(`\n== 1. train: ${flags.model} on MNIST with starve ${DEMO_SCENARIO} (the training split keeps 2% of the digits 3 and 8)\n`);
      const trained = await trainToFolder(engine, config, modelDir, true, progress.callback);
      progress.stop();
      say(formatTrain(trained.manifest, trained.metrics, modelDir));

      const analysisDir = path.join(flags.out, 'analysis');
      say('\n== 2. analyze: buggy labels, the layer where each bug starts, heat maps of correct vs missed inputs\n');
      const analysis = await analyzeToFolder(
        engine,
        modelDir,
        {
          heatmap: 'importance',
          layerSelection: 'saturation',
          theta: { kind: 'absolute', value: DEFAULT_THETA },
          gamma: DEFAULT_GAMMA,
          epsilon: DEFAULT_EPSILON,
          includeInput: false,
          headRowsPerLabel: DEFAULT_HEAD_ROWS_PER_LABEL,
        },
        analysisDir,
        true,
        progress.callback,
      );
      progress.stop();
      say(formatAnalysis(analysis, analysisDir));

      const repairDir = path.join(flags.out, 'repair');
      say(
        `\n== 3. repair: ${DEMO_BATCH} pool inputs per iteration, the default ${DEFAULT_STRATEGY} strategy vs MODE (mode) ` +
          'vs targeted-random vs the random control\n',
      );
      const repair = await repairToFolder(
        engine,
        modelDir,
        {
          strategy: strategySpec(DEFAULT_STRATEGY),
          compare: [strategySpec('mode'), strategySpec('targeted-random')],
          batch: DEMO_BATCH,
          seed: flags.seed,
        },
        repairDir,
        true,
        progress.callback,
      );
      progress.stop();
      say(formatRepair(repair, modelDir, repairDir));

      say('\n== 4. report: tables, curves, heat maps and galleries in one HTML page\n');
      const report = await writeReport(flags.out, path.join(flags.out, 'report'), {
        force: true,
        galleries: true,
        engine: async () => engine,
        onProgress: progress.callback,
      });
      progress.stop();
      say(
        [
          '',
          `pictures: ${path.join(analysisDir, '*-sheet.png')} (HC, HM, HW, DHM, DHW per buggy label) and ` +
            `${path.join(analysisDir, 'layers.png')}`,
          `report: ${path.resolve(report)} (open it in a browser; \`mode serve --from ${flags.out}\` serves it)`,
          `demo finished in ${((performance.now() - started) / 1000).toFixed(0)} s`,
          '',
        ].join('\n'),
      );
    });
}
