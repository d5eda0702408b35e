/** `mode export`: a model folder (or model file) written as ONNX. */
import type { Command } from 'commander';
import { exportOnnx } from '../../model/import/onnx-export.js';
import { printJson, type GlobalOptions } from '../common.js';

interface ExportFlags {
  model: string;
  onnx: string;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a model as ONNX (opset 13, outputs class probabilities); an imported NCHW model keeps its input layout and names')
    .requiredOption('--model <dir|file>', 'a model folder (of `mode train`, `mode repair` or `mode import`) or a .onnx, .keras or .h5 file')
    .requiredOption('--onnx <file>', 'the ONNX file to write')
    .action(async (flags: ExportFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const result = await exportOnnx(flags.model, flags.onnx);
      if (globals.json === true) {
        printJson(result);
        return;
      }
      process.stdout.write(
        `wrote ${flags.onnx}: input '${result.input.name}' [${result.input.shape.map((d) => d ?? 'N').join(', ')}] (${result.layout}), ` +
          `output '${result.output.name}' (probabilities), ${result.nodes} nodes\n`,
      );
    });
}
