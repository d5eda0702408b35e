/** `mode worker`: runs the cells queued in a PostgreSQL store (`mode experiment --enqueue`) on this machine, until none is left. */
import type { Command } from 'commander';
import os from 'node:os';
import { oneOf } from '../../core/errors.js';
import { DEFAULT_ENGINE, ENGINE_NAMES } from '../../engine/index.js';
import { runQueueWorker, type QueueWorkerEvent } from '../../experiment/queue-worker.js';
import { addWorkerMemoryOption, intOption, printJson, type GlobalOptions } from '../common.js';

interface WorkerFlags {
  store: string;
  slots?: number;
  workerMemory?: number;
}

export function registerWorker(program: Command): void {
  const command = program
    .command('worker')
    .description(
      'run the cells queued in a PostgreSQL store (by `mode experiment --enqueue`) on this machine, until no cell is waiting or ' +
        'running anywhere; start one on each machine',
    )
    .requiredOption(
      '--store <url>',
      'the PostgreSQL store holding the queue: postgres://user:pass@host:port/db, or `postgres` for the PG* variables',
    )
    .option(
      '--slots <n>',
      `cells run at once on this machine, one worker process each (default: the number of cores, ${os.availableParallelism()} here)`,
      intOption('--slots', 1, 256),
    );
  addWorkerMemoryOption(command).action(async (flags: WorkerFlags, command: Command) => {
    const globals = command.optsWithGlobals<GlobalOptions>();
    const engine = oneOf('engine', globals.engine ?? DEFAULT_ENGINE, ENGINE_NAMES);
    const quiet = globals.quiet === true;
    // Ctrl-C or a TERM: the cells this worker holds go back to the queue now, not when its claims go stale.
    const stop = new AbortController();
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort(signal));
    const running = runQueueWorker({
      signal: stop.signal,
      store: flags.store,
      slots: flags.slots ?? os.availableParallelism(),
      engine,
      ...(flags.workerMemory === undefined ? {} : { restartAboveMiB: flags.workerMemory }),
      onEvent: (event) => {
        if (!quiet || event.type === 'warning') process.stderr.write(describe(event) + '\n');
      },
    });
    let result: Awaited<typeof running>;
    try {
      result = await running;
    } catch (error) {
      if (!stop.signal.aborted) throw error;
      // Stopped: say so and leave now; the worker processes see their parent gone and exit mid-cell.
      process.stderr.write(`mode: ${(error as Error).message}\n`);
      process.exit(stop.signal.reason === 'SIGINT' ? 130 : 143);
    }
    if (globals.json === true) printJson(result);
    else
      process.stdout.write(
        `worker ${result.worker}: ${result.ran} cells ran, ${result.failed} failed attempts, in ${result.seconds.toFixed(1)} s; the queue is empty\n`,
      );
  });
}

function describe(event: QueueWorkerEvent): string {
  switch (event.type) {
    case 'start':
      return `mode worker ${event.worker}: ${event.slots} slot${event.slots === 1 ? '' : 's'}`;
    case 'model-done':
      return `model ${event.label} trained in ${event.seconds.toFixed(1)} s (stored for every machine)`;
    case 'model-failed':
      return `model ${event.label} FAILED: ${event.message}`;
    case 'cell-done':
      return `${event.label}: ${event.seconds.toFixed(1)} s${event.stored ? '' : ' (already stored by another worker)'}`;
    case 'cell-failed':
      return `${event.label}: FAILED: ${event.message} (given back to the queue)`;
    case 'given-back':
      return `gave back ${event.keys.length} cell${event.keys.length === 1 ? '' : 's'} of a worker that stopped answering`;
    case 'warning':
      return `mode worker: ${event.message}`;
  }
}
