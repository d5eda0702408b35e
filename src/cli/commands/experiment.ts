/** `mode experiment`: run a grid of repairs (a config file or a preset) into a resumable result store, with worker processes. */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import os from 'node:os';
import path from 'node:path';
import { ModeError, oneOf, usageError } from '../../core/errors.js';
import { DEFAULT_ENGINE, ENGINE_NAMES } from '../../engine/index.js';
import {
  expandCells,
  loadExperimentConfig,
  parseExperimentConfig,
  parseWhere,
  type ExperimentConfig,
} from '../../experiment/experiment-config.js';
import { PRESET_NAMES, presetConfig } from '../../experiment/presets.js';
import { planSweep, type SweepPlan } from '../../experiment/sweep-plan.js';
import { storedCellKeys } from '../../experiment/store.js';
import { enqueueExperiment } from '../../experiment/queue.js';
import type { SweepEvent } from '../../experiment/sweep-writer.js';
import { runSweep, type SweepResult } from '../../experiment/sweep.js';
import { addWorkerMemoryOption, intOption, printJson, type GlobalOptions } from '../common.js';

interface ExperimentFlags {
  config?: string;
  preset?: string;
  seeds?: number;
  store?: string;
  workers?: number;
  workerMemory?: number;
  dryRun?: boolean;
  enqueue?: boolean;
  where: string[];
}

export function registerExperiment(program: Command): void {
  const command = program
    .command('experiment')
    .description(
      'run a grid of repairs (scenario x model x strategy x metric x seed x ...) into a resumable SQLite result ' +
        'store, with parallel workers',
    )
    .option('--config <file>', 'experiment config, JSON or YAML')
    .option('--preset <name>', `a named experiment: ${PRESET_NAMES.join(' | ')}`)
    .option('--seeds <n>', "run seeds 1..N (replaces the config's seeds)", intOption('--seeds', 1))
    .option(
      '--store <file|url>',
      'result store: an SQLite file (default: runs/NAME.sqlite) or a PostgreSQL database (postgres://user:pass@host:port/db, or ' +
        '`postgres` for the PG* variables); rerunning with the same store runs only the missing cells',
    )
    .option(
      '--workers <n>',
      `worker processes (default: the number of cores, ${os.availableParallelism()} here)`,
      intOption('--workers', 1, 256),
    );
  addWorkerMemoryOption(command)
    .option(
      '--where <setting=values>',
      'run only the cells with these settings, e.g. --where model=mlp or --where batch=200,2000 (repeatable; every clause must hold; ' +
        "settings as in mode results --by, and seed; slice=NAME[,NAME...] for a benchmark's slices)",
      collect,
      [],
    )
    .option('--dry-run', 'print the plan (cells, models, what is already done) and run nothing')
    .option(
      '--enqueue',
      'queue the missing cells in the (PostgreSQL) store for `mode worker` on any number of machines, instead of running them here',
    )
    .action(async (flags: ExperimentFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const engine = oneOf('engine', globals.engine ?? DEFAULT_ENGINE, ENGINE_NAMES);
      const { config, name } = resolveConfig(flags);
      const store = flags.store ?? path.join('runs', `${name}.sqlite`);
      const where = flags.where.length === 0 ? undefined : parseWhere(flags.where, expandCells(config), config);
      const filter = where === undefined ? {} : { where };
      if (flags.dryRun === true) {
        const plan = planSweep(config, store, { ...filter, doneKeys: await storedCellKeys(store) });
        if (globals.json === true) printJson(planSummary(plan));
        else process.stdout.write(formatPlan(plan) + '\n');
        return;
      }
      if (flags.enqueue === true) {
        const queued = await enqueueExperiment(config, { store, ...filter });
        if (globals.json === true) printJson({ ...planSummary(queued.plan), queued: queued.queued, alreadyQueued: queued.already });
        else
          process.stdout.write(
            formatPlan(queued.plan) +
              `\nqueued ${queued.queued} cells (${queued.already} were queued already); run on each machine: ` +
              `mode worker --store ${queued.plan.store}\n`,
          );
        return;
      }
      const reporter = sweepReporter({ quiet: globals.quiet === true, stream: process.stderr });
      let result: SweepResult;
      try {
        result = await runSweep(config, {
          store,
          workers: flags.workers ?? os.availableParallelism(),
          engine,
          ...(flags.workerMemory === undefined ? {} : { restartAboveMiB: flags.workerMemory }),
          onEvent: reporter.onEvent,
          ...filter,
        });
      } finally {
        reporter.stop();
      }
      if (globals.json === true)
        printJson({
          ...planSummary(result.plan),
          ran: result.ran,
          failed: result.failed,
          seconds: result.seconds,
          workerPeakMiB: result.workerPeakMiB,
          workersRestarted: result.workersRestarted,
        });
      else process.stdout.write(formatResult(result) + '\n');
      if (result.failed.length > 0) {
        const first = result.failed[0]!;
        throw new ModeError(
          'model',
          `${result.failed.length} of ${result.plan.missing.length} cells failed (first: ${first.label}: ${first.message}); ` +
            `they are recorded as failed in ${result.plan.store}, and the same command runs them again`,
        );
      }
    });
}

function resolveConfig(flags: ExperimentFlags): { config: ExperimentConfig; name: string } {
  if ((flags.config === undefined) === (flags.preset === undefined)) {
    throw usageError(`pass exactly one of --config FILE or --preset NAME (presets: ${PRESET_NAMES.join(', ')})`);
  }
  let config: ExperimentConfig;
  let name: string;
  if (flags.preset !== undefined) {
    const input = presetConfig(flags.preset);
    config = parseExperimentConfig(flags.seeds === undefined ? input : { ...input, seeds: flags.seeds }, `preset ${flags.preset}`);
    name = flags.preset;
  } else {
    config = loadExperimentConfig(flags.config!);
    if (flags.seeds !== undefined) config = { ...config, seeds: flags.seeds };
    name = config.name ?? path.basename(flags.config!).replace(/\.(json|ya?ml)$/i, '');
  }
  return { config, name };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function planSummary(plan: SweepPlan): Record<string, unknown> {
  return {
    store: plan.store,
    cells: plan.cells.length,
    excluded: plan.excluded,
    alreadyDone: plan.alreadyDone,
    toRun: plan.missing.length,
    models: plan.models,
    modelsToTrain: plan.modelsToTrain,
    skipped: plan.skipped,
  };
}

function formatPlan(plan: SweepPlan): string {
  return [
    `${plan.cells.length} cells: ${plan.alreadyDone} already done in ${plan.store}, ${plan.missing.length} to run; ` +
      `they need ${plan.models} initial models, ${plan.modelsToTrain} to train`,
    ...(plan.excluded > 0 ? [`left out by --where: ${plan.excluded} cells (a run without --where runs them)`] : []),
    ...plan.skipped.map((s) => `skipped ${s.cells} cells: ${s.reason}`),
  ].join('\n');
}

function restarts(result: SweepResult): string {
  const n = result.workersRestarted;
  return n === 0
    ? ''
    : ` (${n === 1 ? '1 worker was replaced by a fresh one' : `${n} workers were replaced by fresh ones`}, at another kind of model or for their memory)`;
}

function formatResult(result: SweepResult): string {
  const perCell = result.ran > 0 ? ` (${(result.seconds / result.ran).toFixed(1)} s of wall time per cell)` : '';
  return [
    `${result.plan.cells.length} cells: ${result.plan.alreadyDone} were already done, ${result.ran} ran, ${result.failed.length} failed, ` +
      `in ${result.seconds.toFixed(1)} s${perCell}`,
    ...(result.workerPeakMiB > 0 ? [`peak resident memory of a worker: ${result.workerPeakMiB.toFixed(0)} MiB${restarts(result)}`] : []),
    ...(result.plan.excluded > 0 ? [`left out by --where: ${result.plan.excluded} cells`] : []),
    ...result.plan.skipped.map((s) => `skipped ${s.cells} cells: ${s.reason}`),
    `store: ${result.plan.store}; tables: mode results --store ${result.plan.store}`,
  ].join('\n');
}

function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Progress of the whole sweep on stderr: a line per finished cell when not a terminal, a bar on a terminal. */
function sweepReporter(options: { quiet: boolean; stream: NodeJS.WriteStream }): { onEvent: (e: SweepEvent) => void; stop: () => void } {
  const { stream } = options;
  if (options.quiet) return { onEvent: () => {}, stop: () => {} };
  const status = (c: { done: number; total: number; running: number; failed: number; left: number }, eta: number | null): string =>
    `done ${c.done}/${c.total} · running ${c.running} · failed ${c.failed} · left ${c.left} · ETA ${formatDuration(eta)}`;
  const planLines = (e: Extract<SweepEvent, { type: 'plan' }>): string[] => [
    `mode experiment: ${formatPlan(e.plan).split('\n')[0]}; ${e.workers} workers`,
    ...e.plan.skipped.map((s) => `skipped ${s.cells} cells: ${s.reason}`),
  ];
  if (!stream.isTTY) {
    return {
      onEvent: (e) => {
        switch (e.type) {
          case 'plan':
            stream.write(planLines(e).join('\n') + '\n');
            break;
          case 'model-done':
            stream.write(`model ${e.label} trained in ${e.seconds.toFixed(1)} s\n`);
            break;
          case 'model-failed':
            stream.write(`model ${e.label} FAILED: ${e.message}\n`);
            break;
          case 'cell-done':
            stream.write(`[${status(e.counts, e.etaSeconds)}] ${e.cell.label}: ${e.seconds.toFixed(1)} s\n`);
            break;
          case 'cell-failed':
            stream.write(`[${status(e.counts, e.etaSeconds)}] ${e.cell.label} FAILED: ${e.message}\n`);
            break;
          case 'cell-start':
            break;
        }
      },
      stop: () => {},
    };
  }
  const bars = new cliProgress.MultiBar(
    { stream, format: 'cells |{bar}| {status}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | null = null;
  let eta: number | null = null;
  return {
    onEvent: (e) => {
      switch (e.type) {
        case 'plan':
          stream.write(planLines(e).join('\n') + '\n');
          if (e.plan.missing.length > 0)
            bar = bars.create(e.plan.missing.length, 0, {
              status: status({ done: 0, total: e.plan.missing.length, running: 0, failed: 0, left: e.plan.missing.length }, null),
            });
          break;
        case 'model-done':
          bars.log(`model ${e.label} trained in ${e.seconds.toFixed(1)} s\n`);
          break;
        case 'model-failed':
          bars.log(`model ${e.label} FAILED: ${e.message}\n`);
          break;
        case 'cell-start':
          bar?.update({ status: status(e.counts, eta) });
          break;
        case 'cell-done':
          eta = e.etaSeconds;
          bar?.update(e.counts.done + e.counts.failed, { status: status(e.counts, eta) });
          break;
        case 'cell-failed':
          eta = e.etaSeconds;
          bars.log(`${e.cell.label} FAILED: ${e.message}\n`);
          bar?.update(e.counts.done + e.counts.failed, { status: status(e.counts, eta) });
          break;
      }
    },
    stop: () => bars.stop(),
  };
}
