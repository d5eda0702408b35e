/** `mode eval`: per-label accuracy and the confusion matrix of a model folder. */
import type { Command } from 'commander';
import { evaluateModelFolder } from '../../model/eval.js';
import { confusionTable, perLabelTable, pct } from '../../report/terminal.js';
import { NORMALIZE_HELP, normalizeOption, printJson, startEngine, type GlobalOptions } from '../common.js';
import { progressReporter } from '../progress.js';

interface EvalFlags {
  model: string;
  dataset?: string;
  normalize?: string;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('print per-label accuracy and the confusion matrix of a trained model')
    .requiredOption(
      '--model <dir|file>',
      'a model folder written by `mode train` (or any tfjs Layers model folder), or a .onnx, .keras or .h5 model file',
    )
    .option('--dataset <spec>', 'evaluate on this dataset (default: the one the model was trained on)')
    .option('--normalize <spec>', `${NORMALIZE_HELP} (default: the model's)`, normalizeOption)
    .action(async (flags: EvalFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const progress = progressReporter({ quiet: globals.quiet === true });
      const engine = await startEngine(globals);
      const result = await evaluateModelFolder(flags.model, engine, {
        ...(flags.dataset !== undefined ? { dataset: flags.dataset } : {}),
        ...(flags.normalize !== undefined ? { normalize: flags.normalize } : {}),
        onProgress: progress.callback,
      });
      progress.stop();
      if (globals.json === true) {
        printJson(result);
        return;
      }
      const columns = Object.entries(result.sets).map(([name, m]) => ({ name, perLabel: m.perLabel }));
      const summary = Object.entries(result.sets)
        .map(([name, m]) => `${name} ${pct(m.accuracy, 2)}% (${m.count})`)
        .join(', ');
      const test = result.sets.test;
      process.stdout.write(
        [
          `model ${flags.model} on ${result.dataset}`,
          `accuracy: ${summary}`,
          '',
          perLabelTable(result.classNames, columns),
          '',
          ...(test !== undefined
            ? ['confusion matrix (test; rows: true label, columns: predicted)', confusionTable(result.classNames, test.confusion), '']
            : []),
        ].join('\n'),
      );
    });
}
