import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { PNG } from 'pngjs';
import { prepareData } from './prepare-data.js';
import { TrainConfigSchema } from './train-config.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'mode-prepare-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a config without normalize (an earlier manifest) reads as unit', () => {
  const config = TrainConfigSchema.parse({ dataset: 'synthetic', model: 'mlp', epochs: 1, scenarios: {} });
  assert.equal(config.normalize, 'unit');
  assert.equal(TrainConfigSchema.parse({ normalize: 'mean=0.5;std=0.5' }).normalize, 'mean=0.5;std=0.5');
});

test('prepareData normalises every split as the config says', async () => {
  const base = TrainConfigSchema.parse({ dataset: 'synthetic:classes=2,size=4,n=100,test=20', trainSize: 40, validationSize: 20 });
  const unit = await prepareData(base);
  const normal = await prepareData({ ...base, normalize: 'mean=0.25;std=2' });
  for (const split of ['train', 'validation', 'pool', 'test'] as const) {
    assert.ok(Math.abs((normal[split].x[3] ?? 0) - ((unit[split].x[3] ?? 0) - 0.25) / 2) < 1e-6, split);
  }
  assert.equal(unit.files, null);
});

test('prepareData resizes image folders to a model input and keeps the files of validation, pool and test', async () => {
  const dir = path.join(root, 'images');
  for (let i = 0; i < 24; i++) {
    const file = path.join(dir, i % 2 === 0 ? 'even' : 'odd', `${String(i).padStart(2, '0')}.png`);
    mkdirSync(path.dirname(file), { recursive: true });
    const png = new PNG({ width: 6, height: 6 });
    for (let p = 0; p < 36; p++) png.data.set([i * 10, i * 10, i * 10, 255], p * 4);
    writeFileSync(file, PNG.sync.write(png, { colorType: 0 }));
  }
  const config = TrainConfigSchema.parse({ dataset: `images:${dir}`, trainSize: 8, validationSize: 4, poolSize: 8 });
  const data = await prepareData(config, { inputShape: [3, 3, 1] });
  assert.deepEqual(data.dataset.inputShape, [3, 3, 1]);
  const files = data.files;
  assert.ok(files !== null);
  assert.equal(files.pool.length, data.pool.count);
  assert.equal(files.validation.length, data.validation.count);
  assert.equal(files.test.length, data.test.count);
  // Each pool row is its file: the value is the file's number * 10 / 255, the label its parity.
  files.pool.forEach((file, row) => {
    const n = Number(path.basename(file, '.png'));
    assert.equal(data.pool.y[row], n % 2 === 0 ? 0 : 1);
    assert.ok(Math.abs((data.pool.x[row * 9] ?? 0) - (n * 10) / 255) < 1e-6, file);
  });
});
