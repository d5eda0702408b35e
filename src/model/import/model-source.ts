/**
 * Model files from other frameworks (ONNX, Keras `.keras` and `.h5`) as model folders: each file is
 * converted once into a tfjs Layers model folder with an import.json, cached by the file's sha256
 * under `$MODE_CACHE/imports` (or `~/.cache/mode/imports`), and loaded from there by the engines as
 * any model folder. A file that cannot be imported writes nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { modeCacheFolder } from '../../core/cache-folder.js';
import { ModeError } from '../../core/errors.js';
import { writeOutputFolder } from '../../core/output-folder.js';
import { MODEL_JSON } from '../../engine/keras/model-folder.js';
import { convertLayers, endInSoftmax, readImportRecord, writeImportedFolder, type ImportFormat, type ImportRecord } from './imported.js';
import { importKerasH5, importKerasZip } from './keras-file.js';
import { importOnnx } from './onnx.js';

/** Bumped when a change of the importers changes what they write, so cached imports are redone. */
const IMPORTER_VERSION = 1;

const FORMAT_OF_EXTENSION: Record<string, ImportFormat> = { '.onnx': 'onnx', '.keras': 'keras', '.h5': 'h5', '.hdf5': 'h5' };

/** The import format of a path by its extension, or null when it is not a model file mode imports. */
function importFormatOf(file: string): ImportFormat | null {
  return FORMAT_OF_EXTENSION[path.extname(file).toLowerCase()] ?? null;
}

/** Whether `--model` names a model file to import rather than a model folder. */
function isModelFile(location: string): boolean {
  if (importFormatOf(location) === null) return false;
  try {
    return statSync(location).isFile();
  } catch {
    return true;
  }
}

/** The folder imported models are cached in. */
export function importCacheFolder(): string {
  return path.join(modeCacheFolder(), 'imports');
}

async function convert(file: string): Promise<{ write: (dir: string) => Promise<void>; record: ImportRecord }> {
  const format = importFormatOf(file);
  if (format === null) {
    throw new ModeError('usage', `${file}: not a model file mode imports (.onnx, .keras or .h5) and not a model folder`);
  }
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModeError(
      'io',
      code === 'ENOENT' ? `model file '${file}' does not exist` : `${file}: cannot be read (${(error as Error).message})`,
    );
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const imported =
    format === 'onnx' ? importOnnx(data, file) : format === 'keras' ? await importKerasZip(data, file) : await importKerasH5(data, file);
  const softmaxAppended = endInSoftmax(imported.layers);
  const converted = convertLayers(file, imported.inputShape, imported.layers);
  const record: ImportRecord = {
    kind: 'mode-import',
    version: 1,
    format,
    file: path.resolve(file),
    sha256,
    softmaxAppended,
    ...imported.record,
  };
  return { record, write: (dir) => writeImportedFolder(dir, converted, record) };
}

async function sha256Of(file: string): Promise<string> {
  try {
    return createHash('sha256')
      .update(await fs.readFile(file))
      .digest('hex');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModeError(
      'io',
      code === 'ENOENT' ? `model file '${file}' does not exist` : `${file}: cannot be read (${(error as Error).message})`,
    );
  }
}

/**
 * The model folder of a model file: imported into the cache on first use (keyed by its sha256),
 * reused after. Returns the folder and the import record.
 */
export async function importModelFile(file: string): Promise<{ dir: string; record: ImportRecord }> {
  const sha = await sha256Of(file);
  const dir = path.join(importCacheFolder(), `${sha}-v${IMPORTER_VERSION}`);
  if (existsSync(path.join(dir, MODEL_JSON))) {
    const record = await readImportRecord(dir);
    if (record !== null) return { dir, record };
  }
  const { write, record } = await convert(file);
  // Written beside its place and renamed into it; when another process got there first (a sweep's
  // workers importing the same file), its folder is kept and ours dropped.
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const staging = await fs.mkdtemp(`${dir}.partial-`);
  try {
    await write(staging);
    await fs.rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
      if (!(error.code === 'ENOTEMPTY' || error.code === 'EEXIST') || !existsSync(path.join(dir, MODEL_JSON))) throw error;
    });
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  return { dir, record };
}

/** Imports a model file into `out` (a model folder the user can inspect and pass as --model). */
export async function importModelTo(file: string, out: string, force = false): Promise<ImportRecord> {
  const { write, record } = await convert(file);
  await writeOutputFolder(out, force, write);
  return record;
}

/** A model folder or model file given as --model, as the folder to load and its import record (null for our own models). */
export async function resolveModelSource(location: string): Promise<{ dir: string; source: ImportRecord | null }> {
  if (isModelFile(location)) {
    const { dir, record } = await importModelFile(location);
    return { dir, source: record };
  }
  return { dir: location, source: existsSync(location) && statSync(location).isDirectory() ? await readImportRecord(location) : null };
}
