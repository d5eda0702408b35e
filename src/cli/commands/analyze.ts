/** `mode analyze`: bug detection, feature models, target layers and heat maps of a trained model. */
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  analyzeModel,
  analysisDoc,
  ANALYSIS_FILE,
  parseHeatmapVariant,
  parseLayerSelection,
  parseTheta,
  HEATMAP_VARIANTS,
  LAYER_SELECTION_RULES,
  DEFAULT_GAMMA,
  DEFAULT_EPSILON,
  DEFAULT_HEAD_EPOCHS,
  DEFAULT_HEAD_ROWS_PER_LABEL,
  DEFAULT_THETA,
  type AnalysisResult,
  type HeatmapVariant,
  type LayerSelectionRule,
  type ThetaRule,
} from '../../analysis/index.js';
import type { ProgressCallback } from '../../core/progress.js';
import type { Engine } from '../../engine/index.js';
import { runEnvironment } from '../../core/environment.js';
import { ModeError } from '../../core/errors.js';
import { checkOutputFolder, writeJson, writeOutputFolder } from '../../core/output-folder.js';
import { openModelRun } from '../../model/model-run.js';
import { analysisPictures } from '../../report/analysis-pictures.js';
import { pct, probeTable } from '../../report/terminal.js';
import { floatOption, intOption, NORMALIZE_HELP, normalizeOption, printJson, startEngine, type GlobalOptions } from '../common.js';
import { progressReporter } from '../progress.js';

interface AnalyzeFlags {
  model: string;
  dataset?: string;
  normalize?: string;
  heatmap: string;
  layerSelection: string;
  theta: string;
  gamma: number;
  epsilon: number;
  includeInput?: boolean;
  headEpochs?: number;
  headRows: number;
  seed?: number;
  out?: string;
  force?: boolean;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('find buggy labels, the layer where each bug starts, and heat maps of correct vs wrong inputs')
    .requiredOption(
      '--model <dir|file>',
      'a model folder written by `mode train` (or any tfjs Layers model folder), or a .onnx, .keras or .h5 model file',
    )
    .option('--dataset <spec>', 'dataset (default: the one the model was trained on)')
    .option('--normalize <spec>', `${NORMALIZE_HELP} (default: the model's)`, normalizeOption)
    .option('--heatmap <variant>', HEATMAP_VARIANTS.join(' | '), 'importance')
    .option('--layer-selection <rule>', LAYER_SELECTION_RULES.join(' | '), 'saturation')
    .option(
      '--theta <x>',
      'underfitting threshold in [0, 1], or relative:K (mean - K std of per-label validation accuracy)',
      String(DEFAULT_THETA),
    )
    .option('--gamma <x>', 'overfitting threshold on train - validation accuracy', floatOption('--gamma', 0, 1), DEFAULT_GAMMA)
    .option('--epsilon <x>', 'saturation tolerance for target layers', floatOption('--epsilon', 0, 1), DEFAULT_EPSILON)
    .option('--include-input', 'also probe the raw input')
    .option('--head-epochs <n>', 'epochs of each feature model head (default 3)', intOption('--head-epochs', 1))
    .option(
      '--head-rows <n>',
      'train each head on at most N training inputs per label (0: on every input)',
      intOption('--head-rows', 0),
      DEFAULT_HEAD_ROWS_PER_LABEL,
    )
    .option('--seed <n>', "seed for the feature-model heads (default: the model's seed)", intOption('--seed', 0, 0xffffffff))
    .option('--out <dir>', 'output folder for analysis.json and the pictures')
    .option('--force', 'replace an existing output folder')
    .action(async (flags: AnalyzeFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const heatmap = parseHeatmapVariant(flags.heatmap);
      const layerSelection = parseLayerSelection(flags.layerSelection);
      const theta = parseTheta(flags.theta);
      if (flags.out === undefined)
        throw new ModeError('usage', 'missing --out <dir>: the folder for analysis.json and the pictures, e.g. --out runs/mlp-analysis');
      const out = flags.out;
      checkOutputFolder(out, flags.force === true);
      const progress = progressReporter({ quiet: globals.quiet === true });
      const engine = await startEngine(globals);
      const written = await analyzeToFolder(
        engine,
        flags.model,
        {
          ...(flags.dataset !== undefined ? { dataset: flags.dataset } : {}),
          ...(flags.normalize !== undefined ? { normalize: flags.normalize } : {}),
          ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
          heatmap,
          layerSelection,
          theta,
          gamma: flags.gamma,
          epsilon: flags.epsilon,
          includeInput: flags.includeInput === true,
          ...(flags.headEpochs !== undefined ? { headEpochs: flags.headEpochs } : {}),
          headRowsPerLabel: flags.headRows,
        },
        out,
        flags.force === true,
        progress.callback,
      );
      progress.stop();
      if (globals.json === true) {
        printJson({ out: path.resolve(out), ...written.json, maps: undefined, pictures: written.pictures });
        return;
      }
      process.stdout.write(formatAnalysis(written, out));
    });
}

export interface AnalyzeFolderOptions {
  dataset?: string;
  /** The normalisation spec, where not the model's. */
  normalize?: string;
  seed?: number;
  heatmap: HeatmapVariant;
  layerSelection: LayerSelectionRule;
  theta: ThetaRule;
  gamma: number;
  epsilon: number;
  includeInput: boolean;
  headEpochs?: number;
  /** Heads train on at most this many training inputs per label; 0: on every input. */
  headRowsPerLabel: number;
}

export interface AnalyzeWritten {
  result: AnalysisResult;
  json: Record<string, unknown>;
  pictures: string[];
  classNames: readonly string[];
  layerSelection: LayerSelectionRule;
  seconds: number;
}

/** Analyzes a model folder and writes analysis.json and the pictures into `out`. */
export async function analyzeToFolder(
  engine: Engine,
  modelDir: string,
  options: AnalyzeFolderOptions,
  out: string,
  force: boolean,
  onProgress: ProgressCallback,
): Promise<AnalyzeWritten> {
  const run = await openModelRun(modelDir, engine, {
    ...(options.dataset !== undefined ? { dataset: options.dataset } : {}),
    ...(options.normalize !== undefined ? { normalize: options.normalize } : {}),
  });
  const seed = options.seed ?? run.config.seed;
  onProgress({ type: 'stage', stage: 'analyze', message: `mode analyze: seed ${seed}` });
  const started = performance.now();
  let result: AnalysisResult;
  try {
    result = await analyzeModel(engine, run.model, run.data.train, run.data.validation, {
      seed,
      theta: options.theta,
      gamma: options.gamma,
      epsilon: options.epsilon,
      layerSelection: options.layerSelection,
      heatmap: options.heatmap,
      includeInputProbe: options.includeInput,
      headRowsPerLabel: options.headRowsPerLabel,
      onProgress,
      ...(options.headEpochs !== undefined ? { head: { epochs: options.headEpochs } } : {}),
    });
  } finally {
    run.model.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  const classNames = run.data.dataset.classNames;
  const json = analysisDoc(result, {
    modelDir: path.resolve(modelDir),
    dataset: run.config.dataset,
    classNames,
    seed,
    options: { ...options, headEpochs: options.headEpochs ?? DEFAULT_HEAD_EPOCHS },
    engine: { ...engine.info },
    environment: { ...runEnvironment() },
  });
  const pictures = analysisPictures(result, classNames);
  await writeOutputFolder(out, force, async (dir) => {
    await writeJson(path.join(dir, ANALYSIS_FILE), json);
    for (const picture of pictures) await writeFile(path.join(dir, picture.file), picture.png);
  });
  return { result, json, pictures: pictures.map((p) => p.file), classNames, layerSelection: options.layerSelection, seconds };
}

export function formatAnalysis(written: AnalyzeWritten, out: string): string {
  const { result, classNames, layerSelection } = written;
  const buggy = new Set(result.bugReport.bugs.map((b) => b.label));
  const targets = new Map(result.targets.map((t) => [t.label, t.probe]));
  return [
    `validation accuracy % per probe (feature model) and label; * buggy label, < its target layer (${layerSelection})`,
    probeTable(
      result.probes.map((p) => ({ name: p.probe.name, size: p.probe.size, perLabel: p.validation.perLabel })),
      result.model.validation.perLabel,
      buggy,
      targets,
    ),
    '',
    result.bugReport.bugs.length === 0
      ? `no buggy labels at theta ${result.bugReport.theta.toFixed(3)}, gamma ${result.bugReport.gamma}`
      : `buggy labels (theta ${result.bugReport.theta.toFixed(3)}, gamma ${result.bugReport.gamma}):`,
    ...result.targets.map((t) => {
      const bug = result.bugReport.bugs.find((b) => b.label === t.label)!;
      const maps = result.maps.find((m) => m.label === t.label)!;
      return (
        `  ${t.label} ${classNames[t.label] === String(t.label) ? '' : `(${classNames[t.label]}) `}${t.kind}: train ` +
        `${pct(bug.trainAccuracy)}%, validation ${pct(bug.validationAccuracy)}%; ` +
        `target layer ${t.layerName} (${t.reason}); maps over ${maps.counts.correct} correct, ${maps.counts.missed} missed, ` +
        `${maps.counts.wronglyClaimed} wrongly claimed; most confused with ${maps.confusedWith}`
      );
    }),
    '',
    `wrote ${out}: ${ANALYSIS_FILE} and ${written.pictures.length} pictures ` +
      `(${written.pictures.filter((p) => p.includes('sheet')).join(', ') || 'no sheets'}) in ${written.seconds.toFixed(1)} s`,
    '',
  ].join('\n');
}
