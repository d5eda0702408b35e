/**
 * What `mode report` and `mode serve` read: an experiment store (SQLite), a `mode demo` folder
 * (model/, analysis/, repair/), an analysis folder or a repair folder. Anything else, or an empty
 * folder or store, is refused with one line before anything is written.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ANALYSIS_FILE, MAP_NAMES, parseAnalysisDoc, type AnalysisDoc, type MapName } from '../analysis/index.js';
import { ModeError, usageError } from '../core/errors.js';
import type { ProgressCallback } from '../core/progress.js';
import type { Engine } from '../engine/index.js';
import { summarizeResults, validationCurves } from '../experiment/results.js';
import { benchmarkOfStore } from '../experiment/benchmark.js';
import { ResultStore } from '../experiment/store.js';
import { isPostgresStore } from '../experiment/store-location.js';
import { openModelRun } from '../model/model-run.js';
import type { ReportContent } from '../report/html/index.js';
import { poolGalleries, type Galleries } from '../select/galleries.js';
import { parseStrategy, strategySettings, type StrategySpec } from '../select/strategies.js';
import { parseRepairDoc, REPAIR_FILE, type RepairDoc } from '../experiment/repair-doc.js';
import { defaultBy, DEFAULT_REFERENCE } from './commands/results.js';
import { CONTACT_SHEET } from './commands/select.js';
import { parseDoc } from '../core/json-doc.js';
import { QUEUE_DOC, QUEUE_FILE, QueueDocSchema, type QueueDoc } from '../experiment/select-doc.js';

export type ReportSource =
  | { readonly kind: 'store'; readonly path: string }
  | {
      readonly kind: 'folder';
      readonly path: string;
      readonly analysisFile: string | null;
      readonly repairFile: string | null;
      readonly queueFile: string | null;
      readonly modelDir: string | null;
    };

const WHAT_WE_READ =
  'pass a folder written by `mode demo`, `mode analyze`, `mode repair` or `mode select`, or the store of `mode experiment` (a .sqlite file or a postgres:// URL)';

/** Finds what `from` is, or fails with one line saying what it is not. */
export function detectSource(from: string): ReportSource {
  if (isPostgresStore(from)) return { kind: 'store', path: from };
  if (!existsSync(from)) throw usageError(`--from '${from}' does not exist; ${WHAT_WE_READ}`);
  const stat = statSync(from);
  if (stat.isFile()) {
    if ([ANALYSIS_FILE, REPAIR_FILE, QUEUE_FILE].includes(path.basename(from))) return detectSource(path.dirname(from));
    return { kind: 'store', path: from };
  }
  if (!stat.isDirectory()) throw usageError(`--from '${from}' is neither a file nor a folder; ${WHAT_WE_READ}`);
  const entries = readdirSync(from).filter((e) => !e.startsWith('.'));
  if (entries.length === 0) throw new ModeError('usage', `--from '${from}' is an empty folder; ${WHAT_WE_READ}`);
  const inside = (file: string): string | null => (existsSync(path.join(from, file)) ? path.join(from, file) : null);
  let analysisFile = inside(ANALYSIS_FILE);
  let repairFile = inside(REPAIR_FILE);
  const queueFile = inside(QUEUE_FILE);
  let modelDir: string | null = null;
  if (analysisFile === null && repairFile === null && queueFile === null) {
    // A `mode demo` folder: model/, analysis/, repair/.
    analysisFile = inside(path.join('analysis', ANALYSIS_FILE));
    repairFile = inside(path.join('repair', REPAIR_FILE));
    if (existsSync(path.join(from, 'model', 'model.json'))) modelDir = path.join(from, 'model');
  }
  if (analysisFile === null && repairFile === null && queueFile === null) {
    const shown = entries.slice(0, 6).join(', ') + (entries.length > 6 ? ', ...' : '');
    throw new ModeError(
      'usage',
      `--from '${from}' is not a mode output folder: no ${ANALYSIS_FILE}, ${REPAIR_FILE} or ${QUEUE_FILE} in it or in analysis/ and repair/ (it ` +
        `holds ${shown}); ${WHAT_WE_READ}`,
    );
  }
  return { kind: 'folder', path: from, analysisFile, repairFile, queueFile, modelDir };
}

export interface LoadOptions {
  /** Rank pool inputs per metric for the galleries (needs the model folder and its data). */
  readonly galleries: boolean;
  /** An empty store of ours is refused (report) or shown as waiting for its first cell (serve). */
  readonly allowEmptyStore: boolean;
  readonly engine: () => Promise<Engine>;
  readonly onProgress: ProgressCallback;
  /** Galleries already computed for this model folder (serve keeps them between requests). */
  readonly galleryCache?: Map<string, Galleries>;
}

const readText = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ModeError('io', `cannot read ${file} (${(error as Error).message})`);
  }
};

/** A version that changes whenever the source's content does: the store's row counts, the files' sizes and times. */
export async function sourceVersion(source: ReportSource): Promise<string> {
  if (source.kind === 'store') {
    const store = await ResultStore.open(source.path, { readonly: true });
    try {
      return `cells ${await store.count('cells')}, failures ${await store.count('failures')}`;
    } finally {
      await store.close();
    }
  }
  return [source.analysisFile, source.repairFile, source.queueFile]
    .filter((f): f is string => f !== null && existsSync(f))
    .map((f) => {
      const s = statSync(f);
      return `${f}:${s.size}:${s.mtimeMs}`;
    })
    .join(';');
}

async function storeContent(
  source: ReportSource & { kind: 'store' },
  allowEmpty: boolean,
): Promise<Pick<ReportContent, 'store' | 'notes'>> {
  const store = await ResultStore.open(source.path, { readonly: true });
  try {
    const cells = await store.cells();
    const failures = (await store.openFailures()).length;
    if (cells.length === 0) {
      if (!allowEmpty)
        throw usageError(
          `${store.shown} holds no finished cells yet; run \`mode experiment --store ${store.shown}\` first, ` +
            `or watch it with \`mode serve --from ${store.shown}\``,
        );
      return {
        store: null,
        notes: [
          `${store.shown} holds no finished cells yet${failures > 0 ? ` (${failures} failed)` : ''}; ` +
            `this page reloads when the first cell is stored.`,
        ],
      };
    }
    const by = defaultBy(cells);
    const reference = DEFAULT_REFERENCE;
    const benchmark = benchmarkOfStore(cells, await store.runConfigs());
    const accuracy = summarizeResults(cells, { by, measure: 'accuracy', reference });
    return {
      store: {
        file: store.shown,
        cells,
        failures,
        accuracy,
        buggy: summarizeResults(cells, { by, measure: 'buggy', reference }),
        curves: validationCurves(cells, accuracy),
        benchmark,
      },
      notes: [],
    };
  } finally {
    await store.close();
  }
}

/** The map the galleries rank against: the one the repair's mode strategy scored with (a heat map), else HC. */
function galleryMap(repair: RepairDoc | null): MapName {
  if (repair === null) return 'hc';
  let spec: StrategySpec;
  try {
    spec = parseStrategy(repair.config.strategy);
  } catch {
    return 'hc'; // a strategy of another version of mode
  }
  const map = strategySettings(spec).map;
  return map !== null && (MAP_NAMES as readonly string[]).includes(map) ? (map as MapName) : 'hc';
}

async function computeGalleries(modelDir: string, labels: readonly number[], map: MapName, options: LoadOptions): Promise<Galleries> {
  const key = `${path.resolve(modelDir)}|${labels.join(',')}|${map}`;
  const cached = options.galleryCache?.get(key);
  if (cached !== undefined) return cached;
  const engine = await options.engine();
  options.onProgress({
    type: 'stage',
    stage: 'report',
    message:
      `galleries: ranking the pool inputs of label${labels.length === 1 ? '' : 's'} ${labels.join(', ')} by similarity to ` +
      `${map.toUpperCase()} under every metric`,
  });
  const run = await openModelRun(modelDir, engine);
  try {
    const content = await poolGalleries(run.model, run.data, labels, map);
    options.galleryCache?.set(key, content);
    return content;
  } finally {
    run.model.dispose();
  }
}

/** Reads a source into the report's content. */
export async function loadReportContent(source: ReportSource, options: LoadOptions): Promise<ReportContent> {
  const title = `MODE report: ${path.basename(path.resolve(source.path))}`;
  if (source.kind === 'store') {
    const { store, notes } = await storeContent(source, options.allowEmptyStore);
    return { title, source: source.path, analysis: null, repair: null, galleries: null, queue: null, store, notes };
  }
  const analysis: AnalysisDoc | null =
    source.analysisFile === null ? null : parseAnalysisDoc(readText(source.analysisFile), source.analysisFile);
  const repair: RepairDoc | null = source.repairFile === null ? null : parseRepairDoc(readText(source.repairFile), source.repairFile);
  const queue = source.queueFile === null ? null : readQueue(source.queueFile);
  if (queue !== null && analysis === null && repair === null) {
    return { title, source: source.path, analysis, repair, galleries: null, queue, store: null, notes: [] };
  }
  const notes: string[] = [];
  if (analysis === null) notes.push('No analysis.json here: the layer chart and the heat map sheets come from `mode analyze --out DIR`.');
  if (repair === null)
    notes.push(
      'No repair.json here: the repair table, the curves, the per-label accuracy and the confusion matrices come ' +
        'from `mode repair --out DIR`.',
    );
  const modelDir =
    source.modelDir ??
    [analysis?.modelDir, repair?.model].find((d): d is string => d !== undefined && existsSync(path.join(d, 'model.json'))) ??
    null;
  const labels = (analysis?.bugs ?? repair?.initial.bugs ?? []).map((b) => b.label);
  let galleries: Galleries | null = null;
  if (!options.galleries) notes.push('Galleries left out (--no-galleries).');
  else if (labels.length === 0) notes.push('No buggy label, so no galleries of similar pool inputs.');
  else if (modelDir === null)
    notes.push(`The galleries need the model folder (${analysis?.modelDir ?? repair?.model ?? 'unknown'}), which is not there.`);
  else galleries = await computeGalleries(modelDir, labels, galleryMap(repair), options);
  return { title, source: source.path, analysis, repair, galleries, queue, store: null, notes };
}

/** A `mode select` folder's queue.json, with its contact sheet where there is one. */
function readQueue(file: string): { doc: QueueDoc; sheet: Buffer | null } {
  const doc = parseDoc(QueueDocSchema, readText(file), file, QUEUE_DOC);
  const sheetFile = path.join(path.dirname(file), CONTACT_SHEET);
  return { doc, sheet: existsSync(sheetFile) ? readFileSync(sheetFile) : null };
}
