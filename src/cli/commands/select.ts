/** `mode select`: rank an unlabeled pool for labeling, for the labels the model gets wrong. */
import type { Command } from 'commander';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { LAYER_SELECTION_RULES } from '../../analysis/index.js';
import { inputSize } from '../../core/data-types.js';
import { dataError, oneOf } from '../../core/errors.js';
import { runEnvironment } from '../../core/environment.js';
import { checkOutputFolder, writeJson, writeOutputFolder } from '../../core/output-folder.js';
import { loadPool, mapClassesByName, parseNormalize, restoreUnit } from '../../data/index.js';
import type { Model } from '../../engine/index.js';
import { DEFAULT_ALPHA } from '../../experiment/repair-config.js';
import { formatQueueCsv, QUEUE_CSV, QUEUE_FILE, type QueueDoc } from '../../experiment/select-doc.js';
import { selectQueue, type PoolInputs } from '../../experiment/select-queue.js';
import { openLabeledData, DEFAULT_VALIDATION_SHARE } from '../../model/labeled-data.js';
import { loadModelFolder } from '../../model/model-folder.js';
import { renderGallery } from '../../report/png/gallery.js';
import { countsByClass } from '../../report/terminal.js';
import { DEFAULT_MINKOWSKI_P } from '../../select/metrics.js';
import { parseStrategy, type SettingValues } from '../../select/strategies.js';
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

interface SelectFlags {
  model: string;
  data: string;
  pool: string;
  budget: number;
  strategy: string;
  alpha: number;
  validationShare: number;
  layerSelection: string;
  headRows: number;
  theta: number;
  gamma: number;
  usePoolLabels?: boolean;
  normalize?: string;
  sheet: number;
  seed?: number;
  out: string;
  force?: boolean;
}

export const CONTACT_SHEET = 'contact-sheet.png';
/** Picks shown on the contact sheet: a person reviews the head of the queue, not thousands of thumbnails. */
const DEFAULT_SHEET_SIZE = 60;
const SHEET_COLUMNS = 10;

export function registerSelect(program: Command): void {
  const select = program
    .command('select')
    .description('rank an unlabeled pool for labeling: analyse the model on your labeled data, write a labeling queue')
    .requiredOption('--model <path>', 'a model folder, or an .onnx / .keras / .h5 file')
    .requiredOption('--data <spec>', 'your labeled data (split into train and validation, seeded), e.g. images:DIR or npz:FILE')
    .requiredOption('--pool <spec>', 'the inputs to rank: a flat folder of images (images:DIR), or npz:FILE / npy:FILE without labels')
    .requiredOption('--budget <n>', 'how many inputs to queue for labeling', intOption('--budget', 1));
  addStrategyOptions(select);
  select
    .option('--alpha <x>', 'share of the queue a targeted strategy spends on the buggy label', floatOption('--alpha', 0, 1), DEFAULT_ALPHA)
    .option(
      '--validation-share <x>',
      'share of the labeled data held out as validation',
      shareOption('--validation-share'),
      DEFAULT_VALIDATION_SHARE,
    );
  addAnalysisOptions(select)
    .option('--normalize <spec>', `${NORMALIZE_HELP} (default: the model's, else unit)`, normalizeOption)
    .option('--use-pool-labels', "targeted strategies read the pool's own labels, not the model's predictions (studies only)")
    .option('--sheet <n>', 'picks shown on the contact sheet', intOption('--sheet', 0), DEFAULT_SHEET_SIZE)
    .option('--seed <n>', "root seed (default: the model's seed)", intOption('--seed', 0, 0xffffffff))
    .requiredOption('--out <dir>', 'output folder: queue.csv, queue.json, contact-sheet.png')
    .option('--force', 'replace an existing output folder')
    .action(async (flags: SelectFlags & SettingValues, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const settings = strategySettingFlags(flags);
      const strategy = parseStrategy(flags.strategy, settings);
      const layerSelection = oneOf('layer selection', flags.layerSelection, LAYER_SELECTION_RULES);
      checkOutputFolder(flags.out, flags.force === true);
      const progress = progressReporter({ quiet: globals.quiet === true });
      const engine = await startEngine(globals);
      const seed = flags.seed ?? (await modelSeed(flags.model));
      process.stderr.write(`mode select: seed ${seed}\n`);
      const started = performance.now();
      const { model, manifest } = await loadModelFolder(flags.model, engine);
      const modelSeconds = (performance.now() - started) / 1000;
      try {
        let t = performance.now();
        const labeled = await openLabeledData(model, manifest, flags.data, {
          seed,
          validationShare: flags.validationShare,
          ...(flags.normalize === undefined ? {} : { normalize: flags.normalize }),
        });
        const dataSeconds = (performance.now() - t) / 1000;
        t = performance.now();
        // The pool normalised as the labeled data is (the model's own normalisation unless told otherwise).
        const pool = await openPool(flags.pool, model, labeled.normalize, labeled.dataset.classNames);
        const loaded = { 'load model': modelSeconds, 'load data': dataSeconds, 'load pool': (performance.now() - t) / 1000 };
        const { doc, timings } = await selectQueue(
          engine,
          model,
          labeled,
          pool,
          {
            strategy,
            budget: flags.budget,
            alpha: flags.alpha,
            seed,
            theta: flags.theta,
            gamma: flags.gamma,
            layerSelection,
            headRowsPerLabel: flags.headRows,
            minkowskiP: DEFAULT_MINKOWSKI_P,
            usePoolLabels: flags.usePoolLabels === true,
          },
          { model: flags.model, data: flags.data, pool: flags.pool, classNames: labeled.dataset.classNames },
          progress.callback,
        );
        const sheet = contactSheet(doc, pool, flags.sheet, labeled.normalize);
        await writeOutputFolder(flags.out, flags.force === true, async (dir) => {
          await writeJson(path.join(dir, QUEUE_FILE), doc);
          await fs.writeFile(path.join(dir, QUEUE_CSV), formatQueueCsv(doc));
          if (sheet !== null) await fs.writeFile(path.join(dir, CONTACT_SHEET), sheet);
          await writeJson(path.join(dir, 'manifest.json'), {
            kind: 'mode-select-manifest',
            seed,
            engine: engine.info,
            environment: runEnvironment(),
            timings: { ...loaded, ...timings, total: (performance.now() - started) / 1000 },
          });
        });
        progress.stop();
        if (globals.json === true) {
          printJson({ out: path.resolve(flags.out), ...doc, rows: doc.rows.slice(0, 20), timings });
          return;
        }
        process.stdout.write(formatSelect(doc, flags.out, { ...loaded, ...timings, total: (performance.now() - started) / 1000 }));
      } finally {
        model.dispose();
      }
    });
}

/**
 * The pool to rank (or that labels refer to), resized to the model's input and normalised as its data
 * is. Labels a pool has (class folders, or y) are mapped by class name onto `classNames`, the model's.
 */
export async function openPool(spec: string, model: Model, normalize: string, classNames: readonly string[]): Promise<PoolInputs> {
  const pool = await loadPool(spec, { inputShape: model.inputShape, normalize });
  if (pool.y === null || pool.classNames === null) return pool;
  const { y, unknown } = mapClassesByName(pool.y, pool.classNames, classNames);
  if (unknown.length > 0) {
    throw dataError(
      `${spec}: the pool's ${unknown.length === 1 ? 'class' : 'classes'} ${unknown.map((u) => `'${u}'`).join(', ')} ` +
        `${unknown.length === 1 ? 'is' : 'are'} not among the model's [${classNames.join(', ')}]; rename the folders`,
    );
  }
  return { ...pool, y };
}

/** The head of the queue as thumbnails, captioned with rank, predicted label and confidence; null when none are asked for. */
function contactSheet(doc: QueueDoc, pool: PoolInputs, count: number, normalize: string): Buffer | null {
  const shown = doc.rows.slice(0, count);
  if (shown.length === 0) return null;
  const size = inputSize(pool.inputShape);
  const norm = parseNormalize(normalize);
  const images = shown.map((row) => ({
    // Shown as the eye sees them: normalised inputs back in [0, 1].
    values: restoreUnit(pool.x.slice(row.index * size, (row.index + 1) * size), pool.inputShape, norm),
    shape: pool.inputShape,
    caption: `${row.rank}. ${row.predicted}? ${Math.round(100 * row.confidence)}%${row.serves === null ? '' : ' *'}`,
  }));
  const target = doc.rows.some((r) => r.serves !== null) ? `; * serves ${doc.analysis.target?.label ?? ''}` : '';
  const title = `Labeling queue: the first ${shown.length} of ${doc.rows.length} (rank. predicted? confidence${target})`;
  return renderGallery(title, images, { columns: Math.min(SHEET_COLUMNS, shown.length) });
}

function formatSelect(doc: QueueDoc, out: string, timings: Record<string, number>): string {
  const a = doc.analysis;
  const bugs =
    a.bugs.length === 0
      ? 'no buggy label found on the labeled data'
      : a.bugs.map((b) => `${b.label} (${b.kind}${b.layer === null ? '' : `, starts at ${b.layer}`})`).join(', ');
  const serving = doc.rows.filter((r) => r.serves !== null).length;
  const predicted = countsByClass(doc.classNames, doc.predictedCounts);
  const stages = Object.entries(timings)
    .filter(([, s]) => s >= 0.05)
    .map(([stage, s]) => `${stage} ${s.toFixed(1)} s`)
    .join(', ');
  return [
    `labeled data ${doc.data}: ${a.sizes.train} train, ${a.sizes.validation} validation ` +
      `(${a.split === 'manifest' ? 'the split the model was trained with' : 'a seeded share held out'}); pool ${doc.pool}: ${a.sizes.pool} inputs`,
    `buggy labels: ${bugs}`,
    `queued ${doc.rows.length} inputs with ${doc.strategy}` +
      (serving > 0 ? `, ${serving} of them for ${a.target?.label} (${a.target?.why})` : '') +
      `; the model predicts them as ${predicted}`,
    ...(doc.poolLabels === 'predicted' && serving > 0
      ? [
          `the pool is unlabeled: inputs "of ${a.target?.label}" are those the model finds most likely to be ${a.target?.label} (as many as validation's share of it, or an even share of the classes if more), the others count as what the model predicts`,
        ]
      : []),
    `time: ${stages}`,
    `wrote ${path.join(out, QUEUE_CSV)}, ${QUEUE_FILE}, ${CONTACT_SHEET}`,
    '',
  ].join('\n');
}
