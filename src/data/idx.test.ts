import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ModeError } from '../core/errors.js';
import { loadIdxPair, readIdx, readIdxImages, readIdxLabels, writeIdx } from './idx.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mode-idx-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => path.join(dir, name);

/** 4 images of 2x3 with pixel value = image * 10 + position; labels 0, 1, 2, 1. */
const IMAGES = Uint8Array.from({ length: 4 * 6 }, (_, i) => Math.floor(i / 6) * 10 + (i % 6));
const LABELS = Uint8Array.from([0, 1, 2, 1]);

const dataError =
  (pattern: RegExp) =>
  (error: unknown): boolean => {
    assert.ok(error instanceof ModeError, `expected a ModeError, got ${String(error)}`);
    assert.equal(error.code, 'data');
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes('\n'), 'one-line message');
    return true;
  };

test('IDX round-trips raw and gzipped', () => {
  for (const suffix of ['', '.gz']) {
    writeIdx(file(`images${suffix}`), [4, 2, 3], IMAGES);
    writeIdx(file(`labels${suffix}`), [4], LABELS);
    const images = readIdxImages(file(`images${suffix}`));
    assert.equal(images.count, 4);
    assert.deepEqual(images.inputShape, [2, 3, 1]);
    assert.deepEqual(Array.from(images.pixels), Array.from(IMAGES));
    assert.deepEqual(Array.from(readIdxLabels(file(`labels${suffix}`))), [0, 1, 2, 1]);
    const set = loadIdxPair(file(`images${suffix}`), file(`labels${suffix}`));
    assert.equal(set.count, 4);
    assert.equal(set.numClasses, 3);
    assert.deepEqual(set.inputShape, [2, 3, 1]);
    assert.deepEqual(Array.from(set.y), [0, 1, 2, 1]);
    assert.equal(set.x.length, 24);
    assert.ok(Math.abs((set.x[7] ?? 0) - 11 / 255) < 1e-7);
  }
  // gzip is detected by its magic bytes, not by the name.
  assert.equal(readFileSync(file('images.gz'))[0], 0x1f);
  writeFileSync(file('gzipped-without-suffix'), readFileSync(file('images.gz')));
  assert.deepEqual(readIdx(file('gzipped-without-suffix')).dims, [4, 2, 3]);
});

test('4-D images keep their channels; numClasses option is honoured', () => {
  writeIdx(file('rgb'), [2, 2, 2, 3], new Uint8Array(24).fill(255));
  writeIdx(file('rgb-labels'), [2], Uint8Array.from([0, 0]));
  const set = loadIdxPair(file('rgb'), file('rgb-labels'), { numClasses: 5 });
  assert.deepEqual(set.inputShape, [2, 2, 3]);
  assert.equal(set.numClasses, 5);
  assert.equal(set.x[0], 1);
  // Default numClasses is max label + 1 but at least 2.
  assert.equal(loadIdxPair(file('rgb'), file('rgb-labels')).numClasses, 2);
});

test('a truncated file is an error naming the header and the length', () => {
  const whole = readFileSync(file('images'));
  writeFileSync(file('truncated'), whole.subarray(0, whole.length - 5));
  assert.throws(
    () => readIdxImages(file('truncated')),
    dataError(/truncated IDX file: header says 4x2x3 \(40 bytes\) but the file has 35 bytes; re-download or re-extract it/),
  );
  writeFileSync(file('truncated.gz'), gzipSync(whole.subarray(0, 10)));
  assert.throws(
    () => readIdxImages(file('truncated.gz')),
    dataError(/truncated\.gz: truncated IDX file: the header declares 3 dimensions .* 10 bytes after gunzip/),
  );
});

test('an over-long file is an error', () => {
  writeFileSync(file('long'), Buffer.concat([readFileSync(file('images')), Buffer.from([1, 2])]));
  assert.throws(
    () => readIdxImages(file('long')),
    dataError(/IDX file too long: header says 4x2x3 \(40 bytes\) but the file has 42 bytes \(2 extra\)/),
  );
});

test('wrong magic, wrong type, wrong dimensions and missing files are errors', () => {
  writeFileSync(file('png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
  assert.throws(
    () => readIdx(file('png')),
    dataError(/png: not an IDX file: it starts with bytes 89 50 4e 47 but an IDX file starts with 00 00 08/),
  );
  writeFileSync(file('float'), Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 0]));
  assert.throws(() => readIdx(file('float')), dataError(/unsupported IDX element type 0x0d \(float32\); expected 0x08 \(unsigned byte\)/));
  writeFileSync(file('tiny'), Buffer.from([0, 0]));
  assert.throws(() => readIdx(file('tiny')), dataError(/not an IDX file: it has 2 bytes/));
  writeFileSync(file('corrupt.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
  assert.throws(() => readIdx(file('corrupt.gz')), dataError(/corrupt gzip data/));
  assert.throws(
    () => readIdxImages(file('labels')),
    dataError(/expected an IDX images file with 3 dimensions .* found 1 \(4\) \(is this a labels file\?\)/),
  );
  assert.throws(
    () => readIdxLabels(file('images')),
    dataError(/expected an IDX labels file with 1 dimension \(count\), found 3 \(4x2x3\) \(is this an images file\?\)/),
  );
  assert.throws(() => readIdx(file('missing')), dataError(/missing: cannot read IDX file \(no such file\); check the path/));
});

test('label count must equal image count', () => {
  writeIdx(file('three-labels'), [3], Uint8Array.from([0, 1, 2]));
  assert.throws(
    () => loadIdxPair(file('images'), file('three-labels')),
    dataError(/three-labels: 3 labels but .*images has 4 images; expected one label per image/),
  );
});

test('labels must be inside the class range', () => {
  assert.throws(
    () => loadIdxPair(file('images'), file('labels'), { numClasses: 2 }),
    dataError(/labels: label 2 at index 2 is outside the class range \[0, 2\)/),
  );
  assert.throws(() => loadIdxPair(file('images'), file('labels'), { numClasses: 1 }), /numClasses must be an integer of at least 2, got 1/);
});

test('writeIdx checks that the bytes match the dimensions', () => {
  assert.throws(() => writeIdx(file('bad'), [2, 2], new Uint8Array(3)), /dimensions 2x2 need 4 bytes but 3 were given/);
});
