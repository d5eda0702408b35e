/**
 * Output folders are written whole or not at all: everything goes into a temporary sibling folder
 * that is renamed into place at the end, so a failed run never leaves half a folder and never
 * destroys what was there before (an existing folder is replaced only with `force`, and only once
 * the new one is complete).
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { usageError } from './errors.js';

export function checkOutputFolder(out: string, force: boolean): void {
  if (existsSync(out) && !force) {
    throw usageError(`output folder '${out}' already exists; choose another --out or pass --force to replace it`);
  }
}

export async function writeOutputFolder<T>(out: string, force: boolean, write: (dir: string) => Promise<T>): Promise<T> {
  checkOutputFolder(out, force);
  const parent = path.dirname(path.resolve(out));
  await fs.mkdir(parent, { recursive: true });
  const staging = await fs.mkdtemp(path.join(parent, `.${path.basename(out)}.partial-`));
  try {
    const result = await write(staging);
    if (existsSync(out)) {
      const old = `${staging}.old`;
      await fs.rename(out, old);
      await fs.rename(staging, out);
      await fs.rm(old, { recursive: true, force: true });
    } else {
      await fs.rename(staging, out);
    }
    return result;
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    throw error;
  }
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.writeFile(file, JSON.stringify(value, jsonReplacer, 2) + '\n');
}

/** NaN and infinities become null in JSON; typed arrays become plain arrays. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}
