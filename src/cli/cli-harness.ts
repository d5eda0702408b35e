/** Test harness for end-to-end CLI tests: runs the built `mode` in a temporary folder removed after the file's tests. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * The engine the CLI tests run on unless a test passes --engine itself: their small synthetic runs
 * are calibrated on it (a starved class that stays buggy, a sweep's numbers), and it is there on every
 * machine. The default engine (auto) has its own test.
 */
export const TEST_ENGINE = 'wasm';

/**
 * A temporary working folder (removed after the calling test file), a runner of `mode` inside it on
 * TEST_ENGINE, and `modeAsIs`, which passes the arguments unchanged (the default engine).
 */
export function cliHarness(prefix: string): { tmp: string; mode: (...args: string[]) => CliRun; modeAsIs: (...args: string[]) => CliRun } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const modeAsIs = (...args: string[]): CliRun => {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: tmp });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const mode = (...args: string[]): CliRun => modeAsIs(...(args.includes('--engine') ? args : ['--engine', TEST_ENGINE, ...args]));
  return { tmp, mode, modeAsIs };
}
