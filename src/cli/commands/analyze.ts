/** `mode analyze`: bug detection, feature models, target layers and heat maps of a trained model. */
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { analyzeModel, parseHeatmapVariant, parseLayerSelection, parseTheta, HEATMAP_VARIANTS, LAYER_SELECTION_RULES, DEFAULT_GAMMA, DEFAULT_EPSILON } from '../../analysis/index.js';
import { runEnvironment } from '../../core/environment.js';
import { ModeError } from '../../core/errors.js';
import { checkOutputFolder, writeJson, writeOutputFolder } from '../../core/output-folder.js';
import { openModelRun } from '../../model/model-run.js';
import { ANALYSIS_FILE, analysisToJson } from '../../report/analysis-json.js';
import { analysisPictures } from '../../report/analysis-pictures.js';
import { pct, probeTable } from '../../report/terminal.js';
import { floatOption, intOption, printJson, startEngine, type GlobalOptions } from '../common.js';
import { progressReporter } from '../progress.js';

interface AnalyzeFlags {
  model: string;
  dataset?: string;
  heatmap: string;
  layerSelection: string;
  theta: string;
  gamma: number;
  epsilon: number;
  includeInput?: boolean;
  headEpochs?: number;
  seed?: number;
  out?: string;
  force?: boolean;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('find buggy labels, the layer where each bug starts, and heat maps of correct vs wrong inputs')
    .requiredOption('--model <dir>', 'a model folder written by `mode train`')
    .option('--dataset <spec>', 'dataset (default: the one the model was trained on)')
    .option('--heatmap <variant>', HEATMAP_VARIANTS.join(' | '), 'importance')
    .option('--layer-selection <rule>', LAYER_SELECTION_RULES.join(' | '), 'saturation')
    .option('--theta <x>', 'underfitting threshold in [0, 1], or relative:K (mean - K std of per-label validation accuracy)', '0.92')
    .option('--gamma <x>', 'overfitting threshold on train - validation accuracy', floatOption('--gamma', 0, 1), DEFAULT_GAMMA)
    .option('--epsilon <x>', 'saturation tolerance for target layers', floatOption('--epsilon', 0, 1), DEFAULT_EPSILON)
    .option('--include-input', 'also probe the raw input')
    .option('--head-epochs <n>', 'epochs of each feature model head (default 3)', intOption('--head-epochs', 1))
    .option('--seed <n>', 'seed for the feature-model heads (default: the model\'s seed)', intOption('--seed', 0, 0xffffffff))
    .option('--out <dir>', 'output folder for analysis.json and the pictures')
    .option('--force', 'replace an existing output folder')
    .action(async (flags: AnalyzeFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const heatmap = parseHeatmapVariant(flags.heatmap);
      const layerSelection = parseLayerSelection(flags.layerSelection);
      const theta = parseTheta(flags.theta);
      if (flags.out === undefined) throw new ModeError('usage', 'missing --out <dir>: the folder for analysis.json and the pictures, e.g. --out runs/mlp-analysis');
      const out = flags.out;
      checkOutputFolder(out, flags.force === true);
      const progress = progressReporter({ quiet: globals.quiet === true });
      const engine = await startEngine(globals);
      const run = await openModelRun(flags.model, engine, flags.dataset !== undefined ? { dataset: flags.dataset } : {});
      const seed = flags.seed ?? run.config.seed;
      process.stderr.write(`mode analyze: seed ${seed}\n`);
      const started = performance.now();
      const result = await analyzeModel(engine, run.model, run.data.train, run.data.validation, {
        seed, theta, gamma: flags.gamma, epsilon: flags.epsilon, layerSelection, heatmap, includeInputProbe: flags.includeInput === true,
        onProgress: progress.callback, ...(flags.headEpochs !== undefined ? { head: { epochs: flags.headEpochs } } : {}),
      });
      const seconds = (performance.now() - started) / 1000;
      progress.stop();
      run.model.dispose();
      const classNames = run.data.dataset.classNames;
      const json = analysisToJson(result, {
        modelDir: path.resolve(flags.model), dataset: run.config.dataset, classNames, seed,
        options: { heatmap, layerSelection, theta, gamma: flags.gamma, epsilon: flags.epsilon, includeInput: flags.includeInput === true, headEpochs: flags.headEpochs ?? 3 },
        engine: engine.info, environment: runEnvironment(),
      });
      const pictures = analysisPictures(result, classNames);
      await writeOutputFolder(out, flags.force === true, async (dir) => {
        await writeJson(path.join(dir, ANALYSIS_FILE), json);
        for (const picture of pictures) await writeFile(path.join(dir, picture.file), picture.png);
      });
      if (globals.json === true) {
        printJson({ out: path.resolve(out), ...json, maps: undefined, pictures: pictures.map((p) => p.file) });
        return;
      }
      const buggy = new Set(result.bugReport.bugs.map((b) => b.label));
      const targets = new Map(result.targets.map((t) => [t.label, t.probe]));
      const lines = [
        `validation accuracy % per probe (feature model) and label; * buggy label, < its target layer (${layerSelection})`,
        probeTable(result.probes.map((p) => ({ name: p.probe.name, size: p.probe.size, perLabel: p.validation.perLabel })), result.model.validation.perLabel, buggy, targets),
        '',
        result.bugReport.bugs.length === 0
          ? `no buggy labels at theta ${result.bugReport.theta.toFixed(3)}, gamma ${result.bugReport.gamma}`
          : `buggy labels (theta ${result.bugReport.theta.toFixed(3)}, gamma ${result.bugReport.gamma}):`,
        ...result.targets.map((t) => {
          const bug = result.bugReport.bugs.find((b) => b.label === t.label)!;
          const maps = result.maps.find((m) => m.label === t.label)!;
          return `  ${t.label} ${classNames[t.label] === String(t.label) ? '' : `(${classNames[t.label]}) `}${t.kind}: train ${pct(bug.trainAccuracy)}%, validation ${pct(bug.validationAccuracy)}%; ` +
            `target layer ${t.layerName} (${t.reason}); maps over ${maps.counts.correct} correct, ${maps.counts.missed} missed, ${maps.counts.wronglyClaimed} wrongly claimed; most confused with ${maps.confusedWith}`;
        }),
        '',
        `wrote ${out}: ${ANALYSIS_FILE} and ${pictures.length} pictures (${pictures.filter((p) => p.file.includes('sheet')).map((p) => p.file).join(', ') || 'no sheets'}) in ${seconds.toFixed(1)} s`,
        '',
      ];
      process.stdout.write(lines.join('\n'));
    });
}
