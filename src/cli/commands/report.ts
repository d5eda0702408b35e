/** `mode report`: a static, self-contained HTML report of an analysis, a repair, a demo folder or an experiment store. */
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../../core/errors.js';
import { checkOutputFolder, writeOutputFolder } from '../../core/output-folder.js';
import type { ProgressCallback } from '../../core/progress.js';
import type { Engine } from '../../engine/index.js';
import { chartLibrary, reportHtml } from '../../report/html/index.js';
import { printJson, startEngine, type GlobalOptions } from '../common.js';
import { progressReporter } from '../progress.js';
import { detectSource, loadReportContent } from '../report-source.js';

/** The page's file name inside --out. */
const REPORT_FILE = 'index.html';

interface ReportFlags {
  from: string;
  out?: string;
  force?: boolean;
  galleries: boolean;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'write a self-contained HTML report (tables, charts, heat maps, galleries) of a demo, ' +
        'analysis or repair folder, or an experiment store',
    )
    .requiredOption(
      '--from <path>',
      'a folder written by `mode demo`, `mode analyze`, `mode repair` or `mode select`, or the store of `mode experiment` (a .sqlite file or a postgres:// URL)',
    )
    .option('--out <dir>', 'output folder for index.html')
    .option('--force', 'replace an existing output folder')
    .option('--no-galleries', 'leave out the galleries of similar pool inputs (they load the model and its data)')
    .action(async (flags: ReportFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if (flags.out === undefined) throw usageError('missing --out <dir>: the folder for index.html, e.g. --out runs/demo/report');
      checkOutputFolder(flags.out, flags.force === true);
      const progress = progressReporter({ quiet: globals.quiet === true });
      const file = await writeReport(flags.from, flags.out, {
        force: flags.force === true,
        galleries: flags.galleries,
        engine: () => startEngine(globals),
        onProgress: progress.callback,
      });
      progress.stop();
      if (globals.json === true) printJson({ out: path.resolve(flags.out), file: path.resolve(file) });
      else process.stdout.write(`wrote ${file}\n`);
    });
}

/** Reads `from`, builds the page and writes `out`/index.html (the folder whole or not at all); returns the page's path. */
export async function writeReport(
  from: string,
  out: string,
  options: { force: boolean; galleries: boolean; engine: () => Promise<Engine>; onProgress: ProgressCallback },
): Promise<string> {
  const source = detectSource(from);
  const content = await loadReportContent(source, {
    galleries: options.galleries,
    allowEmptyStore: false,
    engine: options.engine,
    onProgress: options.onProgress,
  });
  const html = reportHtml(content, { chartLibrary: chartLibrary() });
  await writeOutputFolder(out, options.force, async (dir) => {
    await writeFile(path.join(dir, REPORT_FILE), html);
  });
  return path.join(out, REPORT_FILE);
}
