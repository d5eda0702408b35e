/** Test harness for end-to-end CLI tests: runs the built `mode` in a temporary folder removed after the file's tests. */
import { spawn, spawnSync } from 'node:child_process';
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

export interface ServeRun {
  readonly url: string;
  /** Stops the server (SIGTERM); resolves to its exit code. */
  readonly stop: () => Promise<number | null>;
  readonly stderr: () => string;
}

/** Starts `mode serve ... --port 0` in `cwd` on TEST_ENGINE and resolves once it listens. */
export async function startServe(cwd: string, ...args: string[]): Promise<ServeRun> {
  const child = spawn(process.execPath, [MAIN, '--engine', TEST_ENGINE, 'serve', ...args, '--port', '0', '--quiet'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const found = /^mode serve: (http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C to stop\)$/m.exec(stdout);
      if (found !== null) resolve(found[1]!);
    });
    void exited.then((code) => reject(new Error(`mode serve exited with ${code} before listening: ${stderr}`)));
  });
  return { url, stderr: () => stderr, stop: async () => (child.kill('SIGTERM'), exited) };
}
