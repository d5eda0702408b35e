import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { GAP_GREY, NAN_GREY, UNUSED_GREY } from './colour.js';
import { layoutHeatmap, renderGallery, renderHeatmap, renderLineChart, renderSheet, SERIES_PALETTE, type MapPanel } from './index.js';
import { formatNumber, niceTicks } from './format.js';
import { layoutSheet, PANEL_GAP } from './sheet.js';

type Rgb = readonly [number, number, number];
const RED: Rgb = [255, 0, 0];
const BLUE: Rgb = [0, 0, 255];
const WHITE: Rgb = [255, 255, 255];

function decode(png: Buffer): { width: number; height: number; at(x: number, y: number): Rgb } {
  const image = PNG.sync.read(png);
  return {
    width: image.width,
    height: image.height,
    at(x, y) {
      assert.ok(x >= 0 && y >= 0 && x < image.width && y < image.height, `pixel (${x}, ${y}) outside ${image.width} x ${image.height}`);
      const i = 4 * (y * image.width + x);
      return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
    },
  };
}

/** Every pixel of the w x h box at (x, y) has `colour`. */
function assertBox(picture: ReturnType<typeof decode>, x: number, y: number, w: number, h: number, colour: Rgb, what: string): void {
  for (let row = y; row < y + h; row++)
    for (let col = x; col < x + w; col++) assert.deepEqual(picture.at(col, row), colour, `${what} at (${col}, ${row})`);
}

function countColour(png: Buffer, colour: Rgb, region?: { x0: number; x1: number }): number {
  const image = PNG.sync.read(png);
  let count = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = region?.x0 ?? 0; x < (region?.x1 ?? image.width); x++) {
      const i = 4 * (y * image.width + x);
      if (image.data[i] === colour[0] && image.data[i + 1] === colour[1] && image.data[i + 2] === colour[2]) count++;
    }
  }
  return count;
}

const hexRgb = (hex: string): Rgb => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;

test('dense map: max cell pure red, min cell pure blue, zeros white, on a ceil(sqrt(n)) grid', () => {
  const values = new Float32Array(9);
  values[4] = 2;
  values[8] = -2;
  const panel: MapPanel = { title: 'HC', values, shape: [9] };
  const layout = layoutHeatmap(panel, { cellSize: 10 });
  const picture = decode(renderHeatmap(panel, { cellSize: 10 }));
  assert.equal(picture.width, layout.width);
  assert.equal(picture.height, layout.height);
  assert.equal(layout.geometry.gridCols, 3);
  assert.equal(layout.geometry.gridRows, 3);
  // Cell i sits at 1 + col * (cellSize + 1) from the grid corner (1-px frame and gaps).
  const cell = (i: number): [number, number] => [layout.gridX + 1 + (i % 3) * 11, layout.gridY + 1 + Math.floor(i / 3) * 11];
  assertBox(picture, ...cell(4), 10, 10, RED, 'max cell');
  assertBox(picture, ...cell(8), 10, 10, BLUE, 'min cell');
  for (const i of [0, 1, 2, 3, 5, 6, 7]) assertBox(picture, ...cell(i), 10, 10, WHITE, `zero cell ${i}`);
  assert.deepEqual(picture.at(layout.gridX, layout.gridY), GAP_GREY, 'frame');
  assert.deepEqual(picture.at(cell(0)[0] + 10, cell(0)[1]), GAP_GREY, 'gap between cells');
});

test('scale option: values past it are clamped, half of it is half colour', () => {
  const panel: MapPanel = { title: 'x', values: [0.5, 3, -3, 0], shape: [4] };
  const layout = layoutHeatmap(panel, { cellSize: 8, scale: 1 });
  const picture = decode(renderHeatmap(panel, { cellSize: 8, scale: 1 }));
  const centre = (i: number): [number, number] => [layout.gridX + 1 + (i % 2) * 9 + 4, layout.gridY + 1 + Math.floor(i / 2) * 9 + 4];
  assert.deepEqual(picture.at(...centre(0)), [255, 128, 128]);
  assert.deepEqual(picture.at(...centre(1)), RED);
  assert.deepEqual(picture.at(...centre(2)), BLUE);
  assert.deepEqual(picture.at(...centre(3)), WHITE);
});

test('dense 128 units: 12 x 11 grid, unused slots grey; NaN cell drawn grey', () => {
  const values = Float32Array.from({ length: 128 }, (_, i) => (i % 2 === 0 ? 1 : -1));
  values[5] = NaN;
  const panel: MapPanel = { title: 'dense', values, shape: [128] };
  const layout = layoutHeatmap(panel, { cellSize: 6 });
  assert.equal(layout.geometry.gridCols, 12);
  assert.equal(layout.geometry.gridRows, 11);
  assert.equal(layout.geometry.width, 1 + 12 * 7);
  assert.equal(layout.geometry.height, 1 + 11 * 7);
  const picture = decode(renderHeatmap(panel, { cellSize: 6 }));
  const cell = (i: number): [number, number] => [layout.gridX + 1 + (i % 12) * 7, layout.gridY + 1 + Math.floor(i / 12) * 7];
  assertBox(picture, ...cell(5), 6, 6, NAN_GREY, 'NaN cell');
  assertBox(picture, ...cell(126), 6, 6, RED, 'unit 126');
  assertBox(picture, ...cell(127), 6, 6, BLUE, 'unit 127');
  for (const i of [128, 129, 130, 131]) assertBox(picture, ...cell(i), 6, 6, UNUSED_GREY, `unused slot ${i}`);
});

test('conv [h, w, c]: c tiles of h x w cells on a near-square grid with 1-px gaps', () => {
  const [h, w, c] = [2, 3, 5];
  // Channel k is constant (k - 2) / 2: -1, -0.5, 0, 0.5, 1; values are channels-last.
  const values = Float32Array.from({ length: h * w * c }, (_, i) => ((i % c) - 2) / 2);
  const panel: MapPanel = { title: 'conv', values, shape: [h, w, c] };
  const cellSize = 4;
  const layout = layoutHeatmap(panel, { cellSize });
  assert.equal(layout.geometry.gridCols, 3);
  assert.equal(layout.geometry.gridRows, 2);
  const picture = decode(renderHeatmap(panel, { cellSize }));
  const tileW = w * cellSize;
  const tileH = h * cellSize;
  const expected: Rgb[] = [BLUE, [128, 128, 255], WHITE, [255, 128, 128], RED];
  for (let k = 0; k < c; k++) {
    const x = layout.gridX + 1 + (k % 3) * (tileW + 1);
    const y = layout.gridY + 1 + Math.floor(k / 3) * (tileH + 1);
    assertBox(picture, x, y, tileW, tileH, expected[k]!, `tile ${k}`);
    assertBox(picture, x + tileW, y, 1, tileH, GAP_GREY, `gap right of tile ${k}`);
  }
  assertBox(picture, layout.gridX + 1 + 2 * (tileW + 1), layout.gridY + 1 + tileH + 1, tileW, tileH, UNUSED_GREY, 'unused tile slot');
});

test('a conv map pixel follows its [y, x, channel] position', () => {
  const [h, w, c] = [4, 4, 2];
  const values = new Float32Array(h * w * c);
  values[(1 * w + 2) * c + 1] = 1; // y = 1, x = 2, channel 1
  const panel: MapPanel = { title: 'one', values, shape: [h, w, c] };
  const layout = layoutHeatmap(panel, { cellSize: 3 });
  const picture = decode(renderHeatmap(panel, { cellSize: 3 }));
  const tileX = layout.gridX + 1 + (4 * 3 + 1);
  assertBox(picture, tileX + 2 * 3, layout.gridY + 1 + 1 * 3, 3, 3, RED, 'hot cell');
  assert.deepEqual(picture.at(tileX + 1, layout.gridY + 2), WHITE);
});

test('input-space map [28, 28, 1] is upscaled by a whole factor to at least 112 px', () => {
  const panel: MapPanel = { title: 'input', values: new Float32Array(784).fill(0.25), shape: [28, 28, 1] };
  const { geometry } = layoutHeatmap(panel);
  assert.equal(geometry.tileWidth % 28, 0);
  assert.ok(geometry.tileWidth >= 112, `tile ${geometry.tileWidth} px`);
  assert.equal(geometry.gridCols, 1);
});

test('edge cases: all-zero map is white, all-NaN map is grey, big conv layers render', () => {
  const zero: MapPanel = { title: 'zero', values: new Float32Array(16), shape: [16] };
  const zl = layoutHeatmap(zero, { cellSize: 5 });
  assert.equal(zl.scale, 0);
  assertBox(decode(renderHeatmap(zero, { cellSize: 5 })), zl.gridX + 1, zl.gridY + 1, 5, 5, WHITE, 'zero cell');
  const nan: MapPanel = { title: 'nan', values: [NaN, NaN, NaN], shape: [3] };
  const nl = layoutHeatmap(nan, { cellSize: 5 });
  assertBox(decode(renderHeatmap(nan, { cellSize: 5 })), nl.gridX + 1, nl.gridY + 1, 5, 5, NAN_GREY, 'NaN cell');
  for (const shape of [
    [26, 26, 16],
    [13, 13, 32],
  ]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const picture = decode(renderHeatmap({ title: 'big', values, shape }));
    assert.ok(picture.width > 200 && picture.width < 1200, `width ${picture.width}`);
  }
});

test('bad input fails with a message saying what was expected', () => {
  assert.throws(() => renderHeatmap({ title: 't', values: [1, 2, 3], shape: [2, 2, 1] }), /3 values do not fill shape \[2, 2, 1\]/);
  assert.throws(() => renderHeatmap({ title: 't', values: [1, 2, 3, 4], shape: [2, 2] }), /not a layer shape/);
  assert.throws(() => renderHeatmap({ title: 't', values: [1], shape: [1] }, { scale: -1 }), /scale -1/);
  assert.throws(() => renderHeatmap({ title: 't', values: [1], shape: [1] }, { cellSize: 2.5 }), /cellSize 2.5/);
  assert.throws(() => renderSheet('t', []), /at least one/);
  assert.throws(
    () => renderSheet('t', [{ title: 'a', values: [1], shape: [1] }], { scale: 'global' as 'shared' }),
    /must be one of \[shared, per-panel\]/,
  );
});

test('same input, same bytes', () => {
  const panel: MapPanel = {
    title: 'HC label 3',
    values: Float32Array.from({ length: 13 * 13 * 4 }, (_, i) => Math.cos(i) * 0.01),
    shape: [13, 13, 4],
  };
  assert.ok(renderHeatmap(panel).equals(renderHeatmap(panel)));
  const chart = { title: 'c', xLabel: 'x', yLabel: 'y', categories: ['a', 'b'], series: [{ name: 's', values: [0.1, 0.9] }] };
  assert.ok(renderLineChart(chart).equals(renderLineChart(chart)));
});

test('sheet: width grows by one panel and one gap per panel; shared vs per-panel scale', () => {
  const panel = (title: string, max: number): MapPanel => ({ title, values: [max, 0, 0, 0], shape: [4] });
  const widths = [1, 2, 3, 5].map(
    (n) =>
      layoutSheet(
        's',
        Array.from({ length: n }, (_, i) => panel(`P${i}`, 1)),
        { cellSize: 20 },
      ).width,
  );
  const step = widths[1]! - widths[0]!;
  const block = layoutSheet('s', [panel('P0', 1)], { cellSize: 20 }).panels[0]!.block;
  assert.equal(step, block.width + PANEL_GAP);
  assert.equal(widths[2]! - widths[1]!, step);
  assert.equal(widths[3]! - widths[0]!, 4 * step);

  const panels = [panel('HC', 1), panel('DHM', 0.5)];
  const perPanel = layoutSheet('label 3', panels, { cellSize: 20 });
  const perPanelPng = decode(renderSheet('label 3', panels, { cellSize: 20 }));
  assert.equal(perPanelPng.width, perPanel.width);
  assert.equal(perPanelPng.height, perPanel.height);
  const hot = (layout: typeof perPanel, p: number): [number, number] => {
    const placed = layout.panels[p]!;
    return [placed.x + placed.block.gridX + 5, placed.y + placed.block.gridY + 5];
  };
  assert.deepEqual(perPanelPng.at(...hot(perPanel, 1)), RED, 'per-panel: each map reaches full red');
  const shared = layoutSheet('label 3', panels, { cellSize: 20, scale: 'shared' });
  const sharedPng = decode(renderSheet('label 3', panels, { cellSize: 20, scale: 'shared' }));
  assert.deepEqual(sharedPng.at(...hot(shared, 0)), RED);
  assert.deepEqual(sharedPng.at(...hot(shared, 1)), [255, 128, 128], 'shared: half the max is half red');
});

test('line chart: highlighted series drawn in its exact colour; bad markers rejected', () => {
  const categories = ['conv2d_1', 'conv2d_2', 'dense_1', 'dense_2'];
  const series = Array.from({ length: 10 }, (_, l) => ({
    name: `label ${l}`,
    values: categories.map((_, p): number | null => (l === 2 ? 0.2 : 0.5) + 0.1 * p),
    highlight: l === 2,
  }));
  series[4]!.values[1] = null;
  const png = renderLineChart({
    title: 'Per-label accuracy',
    xLabel: 'probe',
    yLabel: 'accuracy',
    categories,
    series,
    markers: [{ series: 'label 2', category: 2, note: 'target 2' }],
  });
  const picture = decode(png);
  assert.ok(picture.width >= 600 && picture.height >= 350, `${picture.width} x ${picture.height}`);
  // The plot is the left part of the chart; the legend sits right of it.
  const inPlot = countColour(png, hexRgb(SERIES_PALETTE[2]), { x0: 0, x1: Math.floor(picture.width * 0.7) });
  assert.ok(inPlot > 200, `${inPlot} pixels of the highlighted colour in the plot`);
  const base = { title: 't', xLabel: 'x', yLabel: 'y', categories: ['a'], series: [{ name: 's', values: [0.5] }] };
  assert.throws(() => renderLineChart({ ...base, markers: [{ series: 'nope', category: 0, note: 'n' }] }), /must be one of \[s\]/);
  assert.throws(() => renderLineChart({ ...base, markers: [{ series: 's', category: 3, note: 'n' }] }), /out of range/);
  assert.throws(() => renderLineChart({ ...base, series: [{ name: 's', values: [0.5, 0.6] }] }), /2 values for 1 categories/);
});

test('gallery: images upscaled by whole factors with exact pixels', () => {
  const black = { values: new Float32Array(28 * 28), shape: [28, 28, 1] as const, caption: '0.93 ✓' };
  const red = {
    values: Float32Array.from({ length: 28 * 28 * 3 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
    shape: [28, 28, 3] as const,
    caption: '0.41 ✗',
  };
  const png = renderGallery('picked', [black, black, red], { scale: 3, columns: 2 });
  assert.equal(countColour(png, [0, 0, 0]), 2 * 84 * 84);
  assert.equal(countColour(png, RED), 84 * 84);
  const picture = decode(png);
  assert.ok(picture.width >= 2 * 84 && picture.height >= 2 * 84);
  assert.ok(decode(renderGallery('none', [])).width > 0);
  assert.throws(() => renderGallery('bad', [{ ...black, shape: [28, 28, 2] }]), /c = 1 \(grey\) or 3 \(RGB\)/);
});

test('legend numbers and ticks', () => {
  assert.equal(formatNumber(0.012345), '0.0123');
  assert.equal(formatNumber(-0.5), '\u22120.5');
  assert.equal(formatNumber(2e-5), '2e\u22125');
  assert.equal(formatNumber(0), '0');
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
});
