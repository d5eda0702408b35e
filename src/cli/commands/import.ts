/** `mode import`: an ONNX or Keras model file as a model folder (tfjs Layers format, with import.json). */
import type { Command } from 'commander';
import { importModelTo } from '../../model/import/model-source.js';
import { printJson, type GlobalOptions } from '../common.js';

interface ImportFlags {
  model: string;
  out: string;
  force?: boolean;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('convert an ONNX (.onnx) or Keras (.keras, .h5) model file into a model folder that every command takes as --model')
    .requiredOption('--model <file>', 'the model file: .onnx (e.g. from torch.onnx.export), .keras (Keras 3) or .h5 (legacy Keras)')
    .requiredOption('--out <dir>', 'the model folder to write (model.json, weights.bin, import.json)')
    .option('--force', 'replace an existing output folder')
    .action(async (flags: ImportFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const record = await importModelTo(flags.model, flags.out, flags.force === true);
      if (globals.json === true) {
        printJson({ out: flags.out, source: record });
        return;
      }
      process.stdout.write(
        `imported ${flags.model} (${record.format}, ${record.layout}, input '${record.input.name}' ` +
          `[${record.input.shape.map((d) => d ?? 'N').join(', ')}]) into ${flags.out}` +
          `${record.softmaxAppended ? '; it ended in logits, so a softmax was added' : ''}\n`,
      );
    });
}
