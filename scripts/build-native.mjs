#!/usr/bin/env node
// Builds the libtorch engine's addon (native/) when libtorch is installed, and skips it cleanly when
// not: the project installs, builds and passes its tests on the wasm engine either way.
//   node scripts/build-native.mjs          (run by `npm install` / `npm ci`)
//   MODE_SKIP_NATIVE=1 npm ci              (never build it)
//   MODE_TORCH_INCLUDE=DIR                 (libtorch headers elsewhere than /usr/include/torch)
// Install libtorch on Debian with scripts/install-torch-deps.sh.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TORCH_HEADERS = process.env.MODE_TORCH_INCLUDE ?? '/usr/include/torch';
// Node's headers: npm's nodedir where set (a Node other than the machine's, e.g. .ci/run's Node 24), else Debian's (libnode-dev).
const NODE_DIR = process.env.npm_config_nodedir ?? '/usr';
const NODE_HEADERS = path.join(NODE_DIR, 'include', 'node', 'node_api.h');

function skip(reason) {
  process.stdout.write(`mode: native torch engine not built (${reason}); the wasm engine is used. See README "Engines".\n`);
  process.exit(0);
}

if (process.env.MODE_SKIP_NATIVE === '1') skip('MODE_SKIP_NATIVE=1');
if (!existsSync(TORCH_HEADERS)) skip(`no libtorch headers at ${TORCH_HEADERS}; install them with scripts/install-torch-deps.sh`);
if (!existsSync(NODE_HEADERS)) skip(`no Node headers at ${NODE_HEADERS} (Debian package libnode-dev, or set npm_config_nodedir)`);
let gyp;
try {
  gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  skip('node-gyp is not installed');
}
const started = Date.now();
const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${NODE_DIR}`, '--directory', path.join(root, 'native')], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, JOBS: process.env.JOBS ?? '2' },
});
if (result.status !== 0) {
  process.stderr.write(
    'mode: building the native torch engine failed (see above); the wasm engine still works. Rerun with `node scripts/build-native.mjs`.\n',
  );
  // A failed optional build must not fail the install, except in CI where both engines are tested.
  process.exit(process.env.CI ? 1 : 0);
}
process.stdout.write(
  `mode: native torch engine built in ${Math.round((Date.now() - started) / 1000)} s (native/build/Release/mode_torch.node)\n`,
);
