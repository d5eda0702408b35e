import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { computeProcessEnv, computeTunables } from './process-env.js';

const linux = process.platform === 'linux';
const thpOnRequest = ((): boolean => {
  try {
    return readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').includes('[madvise]');
  } catch {
    return false;
  }
})();

test("a compute process's tunables: huge pages where the kernel gives them on request, two arenas; the caller's own are kept", (t) => {
  if (!linux) {
    assert.equal(computeTunables({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=8' }), 'glibc.malloc.arena_max=8');
    return t.skip('glibc tunables are set on Linux only');
  }
  const huge = thpOnRequest ? ['glibc.malloc.hugetlb=1'] : [];
  assert.equal(computeTunables({}), [...huge, 'glibc.malloc.arena_max=2'].join(':'));
  assert.equal(computeTunables({ MODE_HUGE_PAGES: '0' }), 'glibc.malloc.arena_max=2');
  // A tunable the caller set keeps its value; others are added after the caller's.
  assert.equal(
    computeTunables({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=8:glibc.cpu.x86_rep_movsb_threshold=4096' }),
    ['glibc.malloc.arena_max=8', 'glibc.cpu.x86_rep_movsb_threshold=4096', ...huge].join(':'),
  );
  assert.equal(computeTunables({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }), 'glibc.malloc.hugetlb=0:glibc.malloc.arena_max=2');
  // Idempotent: a process started with them adds nothing (mode's entry restarts itself only once).
  const once = computeTunables({});
  assert.equal(computeTunables({ GLIBC_TUNABLES: once }), once);
  const env = computeProcessEnv({ PATH: '/bin' });
  assert.deepEqual(env, { PATH: '/bin', GLIBC_TUNABLES: once, UV_THREADPOOL_SIZE: '1' });
});
