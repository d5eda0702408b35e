/**
 * `mode results`: the slides' table per group of settings from an experiment's store, with CIs
 * across seeds, paired tests, Holm, Friedman and layer selection vs none.
 */
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { oneOf, usageError } from '../../core/errors.js';
import { writeOutputFolder } from '../../core/output-folder.js';
import { BENCHMARK_SPLITS, slicesOfRuns, summarizeBenchmark, type BenchmarkSummary } from '../../experiment/benchmark.js';
import type { Slice } from '../../experiment/experiment-config.js';
import { cellDimensions, parseWhere, STRATEGY_PARTS, varyingDimensions, type Dimension } from '../../experiment/experiment-config.js';
import { DIMENSION_FLAGS, MEASURES, summarizeResults } from '../../experiment/results.js';
import { ResultStore, type StoredCell } from '../../experiment/store.js';
import { cdTitle, renderBenchmark, titledCd } from '../../report/benchmark-table.js';
import { renderCdDiagram } from '../../report/png/index.js';
import { RESULTS_FORMATS, renderResults, resultsCsv } from '../../report/results-table.js';
import { printJson, type GlobalOptions } from '../common.js';

interface ResultsFlags {
  store: string;
  format: string;
  by?: string;
  measure: string;
  reference: string;
  where: string[];
  benchmark?: boolean;
  split: string;
  out?: string;
  force?: boolean;
}

/** The strategy every row is compared with, when it is a row of the table (calibration.md: knowing the label does most of the work). */
export const DEFAULT_REFERENCE = 'targeted-random';

export function registerResults(program: Command): void {
  program
    .command('results')
    .description(
      "the slides' table from an experiment store: mean ± 95% CI across seeds, paired tests vs the control, Holm, " +
        'Friedman, layer selection vs none',
    )
    .requiredOption('--store <file|url>', 'result store of `mode experiment`: an SQLite file or a postgres:// URL')
    .option('--format <format>', RESULTS_FORMATS.join(' | '), 'table')
    .option(
      '--by <dims>',
      `one row per value of these settings, comma-separated: ${Object.keys(DIMENSION_FLAGS).join(', ')} (default: metric when only the ` +
        `metric of mode varies, else strategy)`,
    )
    .option(
      '--measure <measure>',
      "accuracy: overall test accuracy (the slides'); buggy: mean test recall of the labels buggy at the start",
      'accuracy',
    )
    .option('--reference <strategy>', "also compare every row with this strategy's row (when the table has it), or none", DEFAULT_REFERENCE)
    .option(
      '--where <setting=values>',
      'only the cells with these settings, e.g. --where dataset=mnist --where batch=200 (repeatable; every clause must hold)',
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .option(
      '--benchmark',
      "statistics across the slices of a benchmark (the store's recorded config; without slices, one per dataset, scenario and " +
        'model): per slice each strategy vs the control, targeted-random and the best baseline (Holm), mean ranks across slices, the verdict',
    )
    .option('--split <split>', `with --benchmark: the evaluation the values are read from, ${BENCHMARK_SPLITS.join(' | ')}`, 'test')
    .option('--out <dir>', 'with --benchmark: a folder for the critical-difference diagrams (cd-ROLE.png)')
    .option('--force', 'with --out: replace the folder')
    .action(async (flags: ResultsFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const format = globals.json === true ? 'json' : oneOf('format', flags.format, RESULTS_FORMATS);
      const measure = oneOf('measure', flags.measure, MEASURES);
      const store = await ResultStore.open(flags.store, { readonly: true });
      const shown = store.shown;
      let cells: StoredCell[];
      let failures: number;
      let recorded: Slice[] | null = null;
      try {
        cells = await store.cells();
        failures = (await store.openFailures()).length;
        if (flags.benchmark === true) recorded = slicesOfRuns(await store.runConfigs());
      } finally {
        await store.close();
      }
      if (cells.length === 0) throw usageError(`${shown} holds no finished cells yet; run \`mode experiment --store ${shown}\` first`);
      if (flags.where.length > 0) {
        const where = parseWhere(flags.where, cells);
        cells = cells.filter(where);
        if (cells.length === 0) throw usageError(`no finished cell of ${shown} has all of ${flags.where.join(' and ')}`);
      }
      if (flags.benchmark === true) {
        if (flags.by !== undefined) throw usageError('--by does not apply to --benchmark: its rows are the strategies of each slice');
        if (format === 'csv' || format === 'markdown')
          throw usageError(`--format ${format} does not apply to --benchmark: use table or json`);
        const split = oneOf('split', flags.split, BENCHMARK_SPLITS);
        const summary = summarizeBenchmark(cells, recorded, { measure, split });
        if (flags.out !== undefined) await writeCdDiagrams(flags.out, flags.force === true, summary);
        if (format === 'json')
          printJson({ store: shown, failedCells: failures, slicesFrom: recorded === null ? 'cells' : 'config', ...summary });
        else process.stdout.write(renderBenchmark(summary, shown));
        return;
      }
      if (flags.out !== undefined) throw usageError('--out applies to --benchmark only');
      const by = flags.by === undefined ? defaultBy(cells) : parseBy(flags.by);
      const results = summarizeResults(cells, { by, measure, reference: flags.reference === 'none' ? null : flags.reference });
      if (format === 'json') {
        printJson({ store: shown, failedCells: failures, ...results });
        return;
      }
      if (format === 'csv') {
        process.stdout.write(resultsCsv(results));
        return;
      }
      process.stdout.write(renderResults(results, format, flags.store));
      if (failures > 0)
        process.stdout.write(
          `\n${failures} cells failed and are not in these tables; the same \`mode experiment\` command runs them again.\n`,
        );
    });
}

function parseBy(text: string): Dimension[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw usageError('--by needs at least one setting, e.g. --by metric');
  return names.map((n) => DIMENSION_FLAGS[oneOf('--by setting', n, Object.keys(DIMENSION_FLAGS))]!);
}

/** metric when the strategies differ by their metric only (the slides' tables), else strategy. */
export function defaultBy(cells: readonly StoredCell[]): Dimension[] {
  const varying = varyingDimensions(cells.map(cellDimensions));
  const parts = varying.filter((d) => (STRATEGY_PARTS as readonly string[]).includes(d));
  return parts.length === 1 && parts[0] === 'metric' ? ['metric'] : ['strategy'];
}

/** The critical-difference diagram of each role that has a ranking, as OUT/cd-ROLE.png (the folder written whole). */
async function writeCdDiagrams(out: string, force: boolean, summary: BenchmarkSummary): Promise<void> {
  await writeOutputFolder(out, force, async (dir) => {
    for (const r of summary.rankings)
      if (r.cd !== null) await writeFile(path.join(dir, `cd-${r.role}.png`), renderCdDiagram(titledCd(r.cd), cdTitle(summary, r)));
  });
}
