/** Shared CLI plumbing: option parsers that fail with usage errors, engine start, output. */
import { InvalidArgumentError, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalNormalize } from '../data/index.js';
import { createEngine, DEFAULT_ENGINE, type Engine } from '../engine/index.js';
import { DEFAULT_RESTART_ABOVE_MIB } from '../experiment/worker-pool.js';

export function intOption(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `${name} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got '${value}'.`,
      );
    }
    return n;
  };
}

export function floatOption(name: string, min = -Infinity, max = Infinity): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}], got '${value}'.`);
    }
    return n;
  };
}

/** `--normalize <spec>`: checked once here and kept in its canonical text (data/normalize.ts). */
export function normalizeOption(value: string): string {
  try {
    return canonicalNormalize(value);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}.`);
  }
}

export const NORMALIZE_HELP = 'input normalisation after scaling pixels to [0, 1]: unit | mean=M[,M,M];std=S[,S,S]';

/** A share strictly between 0 and 1 (a part of the data, neither none nor all of it). */
export function shareOption(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !(n > 0 && n < 1))
      throw new InvalidArgumentError(`${name} must be strictly between 0 and 1, got '${value}'.`);
    return n;
  };
}

/** `--worker-memory`, for the commands that run worker processes (mode experiment, mode worker). */
export function addWorkerMemoryOption(command: Command): Command {
  return command.option(
    '--worker-memory <MiB>',
    "a worker process runs one kind of model's cells (every seed), then a fresh one takes the next kind's; it is also " +
      "replaced after a cell once its peak resident memory has passed this many MiB (a process's memory creeps up over many " +
      `cells; default ${DEFAULT_RESTART_ABOVE_MIB}; 0: workers are never replaced)`,
    intOption('--worker-memory', 0),
  );
}

export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  engine?: string;
}

export async function startEngine(options: GlobalOptions): Promise<Engine> {
  return createEngine(options.engine ?? DEFAULT_ENGINE);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}

/** A camelCase setting as its flag: scoreSpace -> score-space. */
export const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The model's own root seed, from its manifest, or 1. */
export async function modelSeed(dir: string): Promise<number> {
  try {
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { config?: { seed?: unknown } };
    return typeof manifest.config?.seed === 'number' ? manifest.config.seed : 1;
  } catch {
    return 1;
  }
}
