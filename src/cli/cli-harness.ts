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

/** A temporary working folder (removed after the calling test file) and a runner of `mode` inside it. */
export function cliHarness(prefix: string): { tmp: string; mode: (...args: string[]) => CliRun } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const mode = (...args: string[]): CliRun => {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: tmp });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  return { tmp, mode };
}
