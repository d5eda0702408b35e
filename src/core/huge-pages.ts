/**
 * Transparent huge pages for our processes. The first touch of fresh memory costs a page fault per
 * 4 KiB page, and a repair touches gigabytes of fresh memory (activations of every probe, every
 * iteration): on the machines measured here that made a CNN cell's activations 4.5 s where with huge
 * pages they take 0.65 s (bench/results/repair-profile-*.md). Where the kernel hands out huge pages
 * only on request (transparent_hugepage "madvise") and glibc can make that request for its large
 * allocations (the tunable glibc.malloc.hugetlb, glibc 2.35 and later; older glibc and other C
 * libraries ignore it), a process started with the tunable gets them. It must be set before the
 * process starts, so the sweep starts its workers with it, and `GLIBC_TUNABLES=glibc.malloc.hugetlb=1 mode ...`
 * gives it to any command. The numbers do not change, only where the memory comes from.
 */
import { readFileSync } from 'node:fs';

const HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb=1';
const THP_SETTING = '/sys/kernel/mm/transparent_hugepage/enabled';

function thpOnRequest(): boolean {
  try {
    return /\[madvise\]/.test(readFileSync(THP_SETTING, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The environment for a process of ours with huge pages on, or null where they would change nothing:
 * not Linux, the kernel not on "madvise", the tunable already set, or MODE_HUGE_PAGES=0.
 */
export function hugePagesEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv | null {
  if (process.platform !== 'linux' || env['MODE_HUGE_PAGES'] === '0') return null;
  const tunables = env['GLIBC_TUNABLES'] ?? '';
  if (tunables.includes('glibc.malloc.hugetlb')) return null;
  if (!thpOnRequest()) return null;
  return { ...env, GLIBC_TUNABLES: tunables === '' ? HUGE_PAGES_TUNABLE : `${tunables}:${HUGE_PAGES_TUNABLE}` };
}
