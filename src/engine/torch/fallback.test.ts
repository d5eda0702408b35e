/**
 * Without libtorch: the install skips the addon with one line and exit 0, `auto` falls back to wasm,
 * and `torch` fails with how to install it. Run in child processes that point at a missing addon
 * and missing headers, so this holds whether or not this machine has libtorch.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const env = { ...process.env, MODE_TORCH_ADDON: '/nonexistent/mode_torch.node', MODE_TORCH_INCLUDE: '/nonexistent/torch' };

test('without libtorch headers the native build is skipped with one line and exit 0', () => {
  const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-native.mjs')], { env, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim().split('\n').length, 1);
  assert.match(
    run.stdout,
    /native torch engine not built \(no libtorch headers at \/nonexistent\/torch; install them with scripts\/install-torch-deps\.sh\); the wasm engine is used/,
  );
});

test('without the addon, auto runs wasm and torch says how to install it', () => {
  const script = `
    const { createEngine, resolveEngineName } = await import(${JSON.stringify(path.join(root, 'dist', 'src', 'engine', 'index.js'))});
    const auto = await createEngine('auto');
    let torch = '';
    try { await createEngine('torch'); } catch (error) { torch = error.code + ': ' + error.message; }
    console.log(JSON.stringify({ resolved: await resolveEngineName('auto'), name: auto.info.name, torch }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { resolved: string; name: string; torch: string };
  assert.equal(result.resolved, 'wasm');
  assert.equal(result.name, 'tfjs-wasm');
  assert.match(
    result.torch,
    /^engine: the torch engine is not built \(no \/nonexistent\/mode_torch\.node\); install libtorch with scripts\/install-torch-deps\.sh/,
  );
});
