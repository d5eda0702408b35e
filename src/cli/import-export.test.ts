/** End-to-end tests of model files on the command line: eval of an ONNX file, mode import, mode export, and a refusal. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliHarness } from './cli-harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = path.join(ROOT, 'src', 'model', 'import', 'fixtures');
const { tmp, mode } = cliHarness('mode-import-cli-');
process.env.MODE_CACHE = path.join(tmp, 'cache');
const SYNTH = 'synthetic:classes=3,size=8,n=300';

test('mode eval takes an ONNX file as --model', () => {
  const r = mode('eval', '--model', path.join(FIXTURES, 'mlp.onnx'), '--dataset', SYNTH, '--quiet');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /model .*mlp\.onnx on synthetic/);
  assert.match(r.stdout, /accuracy: test \d+\.\d+% \(\d+\)/);
  assert.ok(existsSync(path.join(tmp, 'cache', 'imports')));
});

test('mode import writes a model folder that mode eval takes', () => {
  const r = mode('import', '--model', path.join(FIXTURES, 'cnn1.keras'), '--out', 'imported');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /imported .*cnn1\.keras \(keras, nhwc, input 'input' \[N, 8, 8, 1\]\) into imported\n$/);
  const record = JSON.parse(readFileSync(path.join(tmp, 'imported', 'import.json'), 'utf8')) as { format: string; sha256: string };
  assert.equal(record.format, 'keras');
  assert.match(record.sha256, /^[0-9a-f]{64}$/);
  const again = mode('import', '--model', path.join(FIXTURES, 'cnn1.keras'), '--out', 'imported');
  assert.equal(again.status, 2);
  assert.match(again.stderr, /already exists/);
  const evaluated = mode('eval', '--model', 'imported', '--dataset', SYNTH, '--quiet');
  assert.equal(evaluated.status, 0, evaluated.stderr);
});

test('mode export writes ONNX with the source input name and layout', () => {
  const r = mode('--json', 'export', '--model', path.join(FIXTURES, 'cnn3.onnx'), '--onnx', 'out/cnn3.onnx');
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { layout: string; input: { name: string; shape: (number | null)[] }; output: { name: string } };
  assert.deepEqual(result.input, { name: 'input', shape: [null, 3, 8, 8] });
  assert.equal(result.layout, 'nchw');
  assert.equal(result.output.name, 'logits');
  assert.ok(readFileSync(path.join(tmp, 'out', 'cnn3.onnx')).length > 1000);
});

test('an unsupported op is refused with one line and exit 1, and nothing written', () => {
  const r = mode('export', '--model', path.join(FIXTURES, 'bad-leakyrelu.onnx'), '--onnx', 'never.onnx');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^mode: .*bad-leakyrelu\.onnx: node '[^']+' \(LeakyRelu\): op LeakyRelu is not supported; supported: [^\n]+\n$/);
  assert.ok(!existsSync(path.join(tmp, 'never.onnx')));
});
