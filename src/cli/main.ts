#!/usr/bin/env node
/**
 * The `mode` command's entry. glibc reads its memory settings only when a process starts, so where
 * this one lacks a compute process's (computeTunables: transparent huge pages, two malloc arenas), it
 * first replaces itself, in place and once, by the same command with them (process.execve: the same
 * process id, standard streams and arguments; Node 22.15 and later, Linux). A fresh page then costs one
 * fault per 2 MiB instead of one per 4 KiB: in the replication setting, `mode train` and `mode repair`
 * took 2.7-3.0 s and 4.2-4.4 s with them, 3.4-3.5 s and 5.8-6.0 s without (docs/studies/speed.md).
 * Tunables already set are kept as they are; MODE_HUGE_PAGES=0 leaves huge pages out.
 */
import { computeTunables } from '../core/process-env.js';

type Execve = (file: string, args: readonly string[], env: NodeJS.ProcessEnv) => never;
const execve = (process as { execve?: Execve }).execve;
const tunables = computeTunables(process.env);
if (execve !== undefined && tunables !== (process.env['GLIBC_TUNABLES'] ?? '')) {
  try {
    execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      ...process.env,
      GLIBC_TUNABLES: tunables,
    });
  } catch {
    // execve(2) refused (the process is unchanged): run the command without the settings.
  }
}
const { main } = await import('./program.js');
process.exitCode = await main(process.argv);
