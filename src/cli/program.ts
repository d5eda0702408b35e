/** The `mode` command line: a thin layer over the library that parses flags and sets exit codes (main.ts starts it). */
import { Command, CommanderError } from 'commander';
import { ModeError, exitCodeFor } from '../core/errors.js';
import { toolVersion } from '../core/environment.js';
import { DEFAULT_ENGINE, ENGINE_NAMES } from '../engine/index.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerDemo } from './commands/demo.js';
import { registerEval } from './commands/eval.js';
import { registerExperiment } from './commands/experiment.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerRepair } from './commands/repair.js';
import { registerReport } from './commands/report.js';
import { registerResults } from './commands/results.js';
import { registerSelect } from './commands/select.js';
import { registerServe } from './commands/serve.js';
import { registerTrain } from './commands/train.js';
import { registerWorker } from './commands/worker.js';

function buildProgram(): Command {
  const program = new Command();
  program
    .name('mode')
    .description('Debug neural-network classifiers by their training data (MODE, Ma et al. FSE 2018)')
    .version(toolVersion())
    .option('--json', 'print machine-readable results on stdout')
    .option('--quiet', 'no progress on stderr')
    .option('--verbose', 'stack traces on errors')
    .option(
      '--engine <name>',
      `compute engine: ${ENGINE_NAMES.join(' | ')} (auto: torch where its addon is built, else wasm)`,
      DEFAULT_ENGINE,
    )
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  registerTrain(program);
  registerEval(program);
  registerAnalyze(program);
  registerRepair(program);
  registerSelect(program);
  registerImport(program);
  registerExport(program);
  registerDemo(program);
  registerExperiment(program);
  registerResults(program);
  registerReport(program);
  registerServe(program);
  registerWorker(program);
  for (const command of program.commands) command.exitOverride().configureOutput({ writeErr: () => {} });
  return program;
}

/** Runs one command line; resolves to the process's exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      process.stderr.write(
        `mode: ${error.message
          .replace(/^error: /, '')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .join(' ')}\n`,
      );
      if (error.code === 'commander.executeSubCommandAsync') return error.exitCode;
      return 2;
    }
    const verbose = argv.includes('--verbose');
    if (error instanceof ModeError) {
      process.stderr.write(`mode: ${error.message}\n`);
      if (verbose && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
    } else {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      process.stderr.write(`mode: internal error: ${message} (rerun with --verbose for details, and please report it)\n`);
      if (verbose && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
    }
    return exitCodeFor(error);
  }
}
