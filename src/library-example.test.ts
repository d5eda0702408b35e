/** The library example (examples/library.ts) runs end to end through the package's public API, as a user's program would. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const EXAMPLE = fileURLToPath(new URL('../examples/library.js', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mode-library-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('examples/library.ts trains, analyses and repairs through the public API', () => {
  const r = spawnSync(process.execPath, [EXAMPLE, tmp, 'wasm'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^trained on tfjs-wasm: test accuracy 0\.\d{3}\n/);
  assert.match(
    r.stdout,
    /\nlabel 1: underfitting, starts at dense_\d; maps over \d+ correct and \d+ missed inputs, most confused with [02]\n/,
  );
  assert.match(r.stdout, /\nmode:hc:least:cosine:importance:top: test accuracy [01]\.\d{3} -> [01]\.\d{3} \(control [01]\.\d{3}\)\n/);
  assert.match(r.stdout, /\ntargeted-random: test accuracy /);
  assert.match(r.stdout, /\ncontrol: test accuracy /);
  assert.match(r.stdout, /\ndefault strategy: mode:hc:least:cosine:importance:top\n$/);
  assert.ok(existsSync(path.join(tmp, 'model', 'manifest.json')), 'the model folder is written');
});
