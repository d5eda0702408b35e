/**
 * Speed of reading an image folder: writes N 28x28 grey PNGs (Fashion-MNIST's training images when
 * installed, else MNIST's) into DIR/<class>/ and times `loadDataset('images:DIR')` without a target
 * shape, and with a model's input [28, 28, 1] (the resize pipeline) and [32, 32, 1]. Prints wall and
 * CPU seconds (the process's, libvips threads included) and the load average, as other work on the
 * machine stretches the wall time.
 *
 *   npm run build && node dist/bench/image-import.js [--count 25000] [--dir /tmp/mode-image-import] [--keep]
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadDataset, type InputShape } from '../src/index.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '25000' },
    dir: { type: 'string', default: path.join(os.tmpdir(), 'mode-image-import') },
    keep: { type: 'boolean', default: false },
  },
});
const count = Number(values.count);
const dir = values.dir;
const source = existsSync('/usr/share/datasets/fashion-mnist') ? 'fashion-mnist' : 'mnist';

/** Marks a finished folder of `count` images, so a rerun with --keep times the reads only. */
const done = `${dir}.${count}.done`;
if (!existsSync(done)) {
  rmSync(dir, { recursive: true, force: true });
  const data = await loadDataset(source);
  const started = performance.now();
  const [h, w] = data.inputShape;
  for (let i = 0; i < count; i++) {
    const label = data.classNames[data.train.y[i] ?? 0] ?? '?';
    const classDir = path.join(dir, label.replace(/[^A-Za-z0-9-]/g, '_'));
    const pixels = Uint8Array.from(data.train.x.subarray(i * h * w, (i + 1) * h * w), (v) => Math.round(v * 255));
    mkdirSync(classDir, { recursive: true });
    await sharp(pixels, { raw: { width: w, height: h, channels: 1 } })
      .png()
      .toFile(path.join(classDir, `${String(i).padStart(5, '0')}.png`));
  }
  writeFileSync(done, '');
  process.stdout.write(`wrote ${count} PNGs of ${source} to ${dir} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

const targets: (InputShape | undefined)[] = [undefined, [28, 28, 1], [32, 32, 1]];
for (const inputShape of targets) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const dataset = await loadDataset(`images:${dir}`, inputShape === undefined ? {} : { inputShape });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  process.stdout.write(
    `images:${dir} ${inputShape === undefined ? 'as stored' : `resized to [${inputShape.join(', ')}]`}: ` +
      `${dataset.train.count} images [${dataset.inputShape.join(', ')}] in ${seconds.toFixed(2)} s ` +
      `(${Math.round(dataset.train.count / seconds)} images/s; CPU ${cpuSeconds.toFixed(2)} s, load average ${os.loadavg()[0]?.toFixed(1)})\n`,
  );
}
if (values.keep !== true) {
  rmSync(dir, { recursive: true, force: true });
  rmSync(done, { force: true });
}
