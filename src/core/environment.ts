/** Facts about this run's environment for manifests: tool version, Node, git commit. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json lives), found from this file's location in src/ or dist/src/. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'mode-debugger') return dir;
    } catch {
      // keep looking upwards
    }
    dir = path.dirname(dir);
  }
  return process.cwd();
}

export function toolVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

let commit: string | undefined;
function gitCommit(): string {
  if (commit === undefined) {
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
      const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        cwd: packageRoot(),
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .toString()
        .trim();
      if (dirty !== '') commit += '-dirty';
    } catch {
      commit = 'unknown';
    }
  }
  return commit;
}

export interface RunEnvironment {
  tool: string;
  toolVersion: string;
  node: string;
  platform: string;
  gitCommit: string;
  /** The glibc memory settings the process started with (GLIBC_TUNABLES; core/process-env.ts): its timings depend on them. */
  glibcTunables: string | null;
}

export function runEnvironment(): RunEnvironment {
  return {
    tool: 'mode',
    toolVersion: toolVersion(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    gitCommit: gitCommit(),
    glibcTunables: process.env['GLIBC_TUNABLES'] ?? null,
  };
}
