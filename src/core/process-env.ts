/**
 * Memory settings for the processes that compute, set through glibc's tunables, which must be in the
 * environment when a process starts: the sweep starts its workers with them, and the `mode` command
 * restarts itself with them (cli/main.ts). Older glibc and other C libraries ignore them. The numbers
 * a repair computes do not change, only where its memory comes from:
 *
 * - transparent huge pages (glibc.malloc.hugetlb=1), where the kernel hands them out on request
 *   ("madvise"): the first touch of fresh memory costs a page fault per 4 KiB page, and a repair
 *   touches gigabytes of it; on the machines measured here that made a CNN cell's activations take
 *   4.5 s where with huge pages they take 0.65 s (docs/studies/speed.md);
 * - at most two malloc arenas (glibc.malloc.arena_max=2): libtorch allocates on the engine's worker
 *   threads, and memory freed in one thread's arena was not reused by the next, so a worker's
 *   resident memory crept up cell after cell (a CNN worker's peak: 1016 MiB over 16 cells, 902 MiB
 *   with two arenas).
 *
 * And one thread in libuv's pool (UV_THREADPOOL_SIZE=1; an environment variable, not a tunable): the
 * engine runs its jobs there one at a time, so one thread is all it needs, and the memory a thread
 * allocates (libtorch's, the BLAS's) then lives on one thread only. Two CNN cells side by side at
 * B=2000 peaked at 860 and 870 MiB with it, 874 to 929 without (docs/studies/speed.md).
 */
import { readFileSync } from 'node:fs';

const HUGE_PAGES = 'glibc.malloc.hugetlb=1';
const ARENAS = 'glibc.malloc.arena_max=2';
const THP_SETTING = '/sys/kernel/mm/transparent_hugepage/enabled';

function thpOnRequest(): boolean {
  try {
    return /\[madvise\]/.test(readFileSync(THP_SETTING, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * GLIBC_TUNABLES for a compute process of ours: `env`'s own, with the settings above added where they
 * are not set yet (huge pages only where the kernel is on "madvise"; MODE_HUGE_PAGES=0 leaves them out).
 * Linux only: elsewhere `env`'s own, unchanged.
 */
export function computeTunables(env: NodeJS.ProcessEnv = process.env): string {
  const tunables = (env['GLIBC_TUNABLES'] ?? '').split(':').filter((t) => t !== '');
  if (process.platform !== 'linux') return tunables.join(':');
  const set = (tunable: string): void => {
    if (!tunables.some((t) => t.startsWith(tunable.split('=')[0]!))) tunables.push(tunable);
  };
  if (env['MODE_HUGE_PAGES'] !== '0' && thpOnRequest()) set(HUGE_PAGES);
  set(ARENAS);
  return tunables.join(':');
}

/** The environment for a compute process of ours (a sweep's worker): `env` with the settings above added where they are not set yet. Linux only. */
export function computeProcessEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (process.platform !== 'linux') return env;
  return { ...env, GLIBC_TUNABLES: computeTunables(env), UV_THREADPOOL_SIZE: env['UV_THREADPOOL_SIZE'] ?? '1' };
}
