/** `mode repair --add`: fold a labeler's answers back into the model, with per-label accuracy before and after. */
import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { ModeError, usageError } from '../../core/errors.js';
import { parseDoc } from '../../core/json-doc.js';
import { runEnvironment } from '../../core/environment.js';
import { writeJson, writeOutputFolder } from '../../core/output-folder.js';
import type { ProgressCallback } from '../../core/progress.js';
import { loadDataset } from '../../data/index.js';
import type { Engine, Model } from '../../engine/index.js';
import { ADD_FILE, ADD_KIND, ADD_VERSION, type AddDoc } from '../../experiment/add-doc.js';
import { checkAddedShape, foldIn, readLabelsCsv, remapClasses, type AddedInputs } from '../../experiment/add-labels.js';
import { QUEUE_DOC, QUEUE_FILE, QueueDocSchema } from '../../experiment/select-doc.js';
import { openLabeledData } from '../../model/labeled-data.js';
import { loadModelFolder } from '../../model/model-folder.js';
import { exportOnnx } from '../../model/import/onnx-export.js';
import { TrainConfigSchema } from '../../model/train-config.js';
import type { ClassificationMetrics } from '../../model/metrics.js';
import { countsByClass, perLabelTable, pct } from '../../report/terminal.js';
import { printJson } from '../common.js';
import { openPool } from './select.js';

export interface AddFlags {
  readonly model: string;
  readonly data: string;
  readonly add: string;
  readonly pool?: string;
  readonly queue?: string;
  readonly fineTuneEpochs: number;
  readonly delta: number;
  readonly validationShare: number;
  readonly normalize?: string;
  readonly seed: number;
  readonly out: string;
  readonly force: boolean;
  readonly json: boolean;
}

/** The model folder the repaired model is written to, inside the output folder, and its ONNX twin for an ONNX source. */
const MODEL_SUBFOLDER = 'model';
const ONNX_FILE = 'model.onnx';

export async function repairWithLabels(engine: Engine, flags: AddFlags, onProgress: ProgressCallback): Promise<void> {
  if (!existsSync(flags.add)) throw usageError(`--add '${flags.add}' does not exist; pass the labels CSV or a folder of class subfolders`);
  const { model, manifest, source } = await loadModelFolder(flags.model, engine);
  try {
    const data = await openLabeledData(model, manifest, flags.data, {
      seed: flags.seed,
      validationShare: flags.validationShare,
      ...(flags.normalize === undefined ? {} : { normalize: flags.normalize }),
    });
    const classNames = data.dataset.classNames;
    // New inputs normalised as the labeled data is.
    const added = await readAdded(flags, classNames, model, data.normalize);
    checkAddedShape(added.set, model, flags.add);
    // Fine-tuning as the model was trained, where its manifest says how; else the training defaults.
    const config = TrainConfigSchema.parse({ ...(manifest?.config ?? {}), dataset: flags.data });
    const training = { epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate, optimizer: config.optimizer };
    const result = await foldIn(
      model,
      data,
      added.set,
      { training, epochs: flags.fineTuneEpochs, delta: flags.delta, seed: flags.seed },
      onProgress,
    );
    const metrics = (m: ClassificationMetrics): AddDoc['before']['validation'] => ({
      accuracy: m.accuracy,
      perLabel: m.perLabel.map((v) => (Number.isNaN(v) ? null : v)),
    });
    const doc: AddDoc = {
      kind: ADD_KIND,
      version: ADD_VERSION,
      model: flags.model,
      data: flags.data,
      added: flags.add,
      seed: flags.seed,
      classNames,
      config: { epochs: flags.fineTuneEpochs, batchSize: training.batchSize, learningRate: training.learningRate, delta: flags.delta },
      sizes: { train: data.train.count, validation: data.validation.count, test: data.test?.count ?? null, replayed: result.replayed },
      addedPerLabel: result.addedPerLabel,
      sources: [...added.sources],
      before: { validation: metrics(result.before.validation), test: result.before.test === null ? null : metrics(result.before.test) },
      after: { validation: metrics(result.after.validation), test: result.after.test === null ? null : metrics(result.after.test) },
      guard: {
        passed: result.regressions.length === 0,
        regressions: result.regressions.map((r) => ({ label: classNames[r.label]!, before: r.before, after: r.after })),
      },
      // An ONNX model goes back out as ONNX too, in its own input layout and names, for the user's stack.
      outputs: source?.format === 'onnx' ? [MODEL_SUBFOLDER, ONNX_FILE] : [MODEL_SUBFOLDER],
    };
    await writeOutputFolder(flags.out, flags.force, async (dir) => {
      const modelDir = path.join(dir, MODEL_SUBFOLDER);
      await fs.mkdir(modelDir);
      await model.save(modelDir);
      if (source?.format === 'onnx') await exportOnnx(modelDir, path.join(dir, ONNX_FILE), { source });
      await writeJson(path.join(dir, ADD_FILE), doc);
      await writeJson(path.join(dir, 'manifest.json'), {
        kind: 'mode-repair-add-manifest',
        seed: flags.seed,
        engine: engine.info,
        environment: runEnvironment(),
        timings: { retrain: result.seconds },
      });
    });
    if (flags.json) printJson({ out: path.resolve(flags.out), ...doc, sources: undefined });
    else process.stdout.write(formatAdd(doc, result.after.validation, flags.out));
  } finally {
    model.dispose();
  }
}

/** The labeler's answers: a CSV against the pool, or a folder of class subfolders. */
async function readAdded(flags: AddFlags, classNames: readonly string[], model: Model, normalize: string): Promise<AddedInputs> {
  if (statSync(flags.add).isDirectory()) {
    const dataset = await loadDataset(`images:${flags.add}`, { inputShape: model.inputShape, normalize });
    const set = remapClasses(dataset.train, dataset.classNames, classNames, flags.add);
    return { set, sources: dataset.files?.train.map((f) => path.join(flags.add, f)) ?? [] };
  }
  if (flags.pool === undefined) {
    throw usageError(`--add ${flags.add} names pool inputs: pass the --pool they came from (the one given to \`mode select\`)`);
  }
  const pool = await openPool(flags.pool, model, normalize, classNames);
  const allowed = flags.queue === undefined ? null : await queueIndices(flags.queue);
  return readLabelsCsv(await fs.readFile(flags.add, 'utf8'), flags.add, pool, classNames, allowed);
}

/** The pool indices a queue asked for (a `mode select` folder or its queue.json). */
async function queueIndices(queue: string): Promise<Set<number>> {
  const file = existsSync(queue) && statSync(queue).isDirectory() ? path.join(queue, QUEUE_FILE) : queue;
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new ModeError('io', `--queue: cannot read ${file}; pass the --out folder of \`mode select\``);
  }
  return new Set(parseDoc(QueueDocSchema, text, file, QUEUE_DOC).rows.map((r) => r.index));
}

function formatAdd(doc: AddDoc, validation: ClassificationMetrics, out: string): string {
  const columns = [
    { name: 'validation before', perLabel: doc.before.validation.perLabel.map((v) => v ?? NaN) },
    { name: 'after', perLabel: doc.after.validation.perLabel.map((v) => v ?? NaN) },
    ...(doc.before.test !== null && doc.after.test !== null
      ? [
          { name: 'test before', perLabel: doc.before.test.perLabel.map((v) => v ?? NaN) },
          { name: 'after', perLabel: doc.after.test.perLabel.map((v) => v ?? NaN) },
        ]
      : []),
  ];
  const addedText = countsByClass(doc.classNames, doc.addedPerLabel);
  const guard = doc.guard.passed
    ? `no-regression guard: passed (no label's validation accuracy fell by more than ${pct(doc.config.delta, 0)} points)`
    : `no-regression guard: FAILED for ${doc.guard.regressions
        .map((r) => `${r.label} (${pct(r.before)}% -> ${pct(r.after)}%)`)
        .join(', ')}; the repaired model is written, but check these labels before you use it`;
  return [
    `added ${doc.sources.length} labeled inputs (${addedText}) and replayed ${doc.sizes.replayed} training inputs, ${doc.config.epochs} epochs`,
    perLabelTable(doc.classNames, columns),
    `validation accuracy ${pct(doc.before.validation.accuracy ?? NaN, 2)}% -> ${pct(validation.accuracy, 2)}%`,
    guard,
    `wrote ${doc.outputs.map((o) => path.join(out, o)).join(', ')} and ${path.join(out, ADD_FILE)}`,
    '',
  ].join('\n');
}
