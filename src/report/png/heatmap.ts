/**
 * One heat map over a layer's neurons as a PNG. Conv and input layers ([h, w, c], channels last) are
 * drawn as a near-square grid of c tiles of h x w cells, 1-px gaps between tiles; dense layers ([n])
 * as a near-square grid of n cells. Colours: diverging blue-white-red, symmetric about zero.
 */
import { shapeError, usageError } from '../../core/errors.js';
import { divergingColour, GAP_GREY, NAN_GREY, UNUSED_GREY, WHITE } from './colour.js';
import { Figure } from './figure.js';
import { fitText, textWidth } from './font.js';
import { formatNumber } from './format.js';

/** A map's values and the shape of the layer it lives on: [h, w, c] for conv/input layers, [n] for dense. */
export interface MapPanel {
  title: string;
  values: Float32Array | readonly number[];
  shape: readonly number[];
}

export interface HeatmapOptions {
  /** Half-range of the colour scale: |value| >= scale is full colour. Default: the map's max |value|. */
  scale?: number;
  /** Side of one cell (one neuron) in px. Default: chosen so the map is about TARGET_MAP_WIDTH wide. */
  cellSize?: number;
}

/** Layout constants (px), chosen by eye on a laptop screen. */
export const MARGIN = 16;
/** Width a single map's grid aims for when no cellSize is given. */
const TARGET_MAP_WIDTH = 420;
/** A one-channel (input-space) map is upscaled by a whole factor until its longer side is at least this. */
const MIN_INPUT_SIDE = 112;
const SPATIAL_CELL_RANGE = [1, 16] as const;
const DENSE_CELL_RANGE = [6, 40] as const;
const MAX_CELL_SIZE = 256;
const SUBTITLE_SIZE = 12;
const ROW_LABEL_SIZE = 10;
const LEGEND_BAR_HEIGHT = 12;
const LEGEND_LABEL_SIZE = 11;
const LEGEND_BAR_WIDTH_RANGE = [180, 300] as const;
/** Height of a legend: bar, tick, labels. */
const LEGEND_HEIGHT = LEGEND_BAR_HEIGHT + 4 + LEGEND_LABEL_SIZE + 4;

/** Where the cells of a map go, relative to the top-left corner of its grid (the grid's 1-px frame). */
export interface MapGeometry {
  kind: 'dense' | 'spatial';
  /** Cells per tile (1 x 1 for dense) and the number of tiles (channels; units for dense). */
  tileRows: number;
  tileCols: number;
  tiles: number;
  /** The tile grid: gridCols = ceil(sqrt(tiles)). */
  gridRows: number;
  gridCols: number;
  cellSize: number;
  /** Tile size in px, gaps excluded. */
  tileWidth: number;
  tileHeight: number;
  /** Whole grid in px: tiles, 1-px gaps between them and a 1-px frame. */
  width: number;
  height: number;
}

/** Top-left pixel of tile (channel or unit) `index`, relative to the grid's corner. */
function tileOrigin(geometry: MapGeometry, index: number): { x: number; y: number } {
  const col = index % geometry.gridCols;
  const row = Math.floor(index / geometry.gridCols);
  return { x: 1 + col * (geometry.tileWidth + 1), y: 1 + row * (geometry.tileHeight + 1) };
}

export function checkPanel(panel: MapPanel, where: string): void {
  const { shape, values } = panel;
  if (typeof panel.title !== 'string') throw usageError(`${where}: title must be a string, got ${typeof panel.title}`);
  if (!Array.isArray(shape) || (shape.length !== 1 && shape.length !== 3) || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw shapeError(
      `${where} '${panel.title}': shape [${String(shape)}] is not a layer shape: ` +
        `expected [h, w, c] for a conv/input layer or [n] for a dense layer, positive integers`,
    );
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) {
    throw shapeError(
      `${where} '${panel.title}': ${values.length} values do not fill shape [${shape.join(', ')}] (${size} neurons); ` +
        `pass the map reshaped to its layer`,
    );
  }
}

export function checkCellSize(cellSize: number | undefined, where: string): void {
  if (cellSize !== undefined && !(Number.isInteger(cellSize) && cellSize >= 1 && cellSize <= MAX_CELL_SIZE)) {
    throw usageError(`${where}: cellSize ${cellSize} is out of range: expected a whole number of px in [1, ${MAX_CELL_SIZE}]`);
  }
}

export function mapGeometry(shape: readonly number[], cellSize: number | undefined, targetWidth: number): MapGeometry {
  const dense = shape.length === 1;
  const [tileRows, tileCols, tiles] = dense ? [1, 1, shape[0]!] : [shape[0]!, shape[1]!, shape[2]!];
  const gridCols = Math.ceil(Math.sqrt(tiles));
  const gridRows = Math.ceil(tiles / gridCols);
  let size = cellSize;
  if (size === undefined) {
    const [low, high] = dense ? DENSE_CELL_RANGE : SPATIAL_CELL_RANGE;
    size = Math.max(low, Math.min(high, Math.floor((targetWidth - 1 - gridCols) / (gridCols * tileCols))));
    if (!dense && tiles === 1) size = Math.max(size, Math.ceil(MIN_INPUT_SIDE / Math.max(tileRows, tileCols)));
  }
  const tileWidth = tileCols * size;
  const tileHeight = tileRows * size;
  return {
    kind: dense ? 'dense' : 'spatial',
    tileRows,
    tileCols,
    tiles,
    gridRows,
    gridCols,
    cellSize: size,
    tileWidth,
    tileHeight,
    width: 1 + gridCols * (tileWidth + 1),
    height: 1 + gridRows * (tileHeight + 1),
  };
}

/** Largest finite |value| (0 when there is none). */
export function maxAbs(values: Float32Array | readonly number[]): number {
  let max = 0;
  for (const v of values) if (Number.isFinite(v) && Math.abs(v) > max) max = Math.abs(v);
  return max;
}

export function hasNaN(values: Float32Array | readonly number[]): boolean {
  for (const v of values) if (Number.isNaN(v)) return true;
  return false;
}

/** One line saying what the grid shows, e.g. "13 × 13 × 32: a tile per channel, row-major". */
export function describeShape(shape: readonly number[]): string {
  if (shape.length === 1) return `dense, ${shape[0]} units (row-major)`;
  const dims = shape.join(' × ');
  return shape[2] === 1 ? dims : `${dims}: a tile per channel, row-major`;
}

/** Paints the grid (frame, gaps, tiles, unused slots) with its top-left corner at (x, y). */
function drawGrid(
  figure: Figure,
  x: number,
  y: number,
  geometry: MapGeometry,
  values: Float32Array | readonly number[],
  scale: number,
): void {
  figure.fillRect(x, y, geometry.width, geometry.height, GAP_GREY);
  const { tileRows, tileCols, tiles } = geometry;
  const rgb = new Uint8Array(tileRows * tileCols * 3);
  for (let slot = 0; slot < geometry.gridRows * geometry.gridCols; slot++) {
    const origin = tileOrigin(geometry, slot);
    if (slot >= tiles) {
      figure.fillRect(x + origin.x, y + origin.y, geometry.tileWidth, geometry.tileHeight, UNUSED_GREY);
      continue;
    }
    for (let cell = 0; cell < tileRows * tileCols; cell++) {
      const colour = divergingColour(Number(values[cell * tiles + slot]), scale);
      rgb.set(colour, 3 * cell);
    }
    figure.image(x + origin.x, y + origin.y, tileCols, tileRows, rgb.slice(), geometry.cellSize);
  }
}

/** Labels left of the grid: the index of the first channel/unit on each row of tiles (thinned to fit). */
function rowLabels(geometry: MapGeometry): { row: number; text: string }[] {
  if (geometry.gridRows < 2) return [];
  const every = Math.ceil((ROW_LABEL_SIZE + 2) / (geometry.tileHeight + 1));
  const labels: { row: number; text: string }[] = [];
  for (let row = 0; row < geometry.gridRows; row += every) labels.push({ row, text: String(row * geometry.gridCols) });
  return labels;
}

export interface LegendSpec {
  scale: number;
  /** Some values lie past the scale (drawn clamped): end labels read "≤ -s" and "≥ s". */
  clipped: boolean;
  /** Some values are NaN: a grey swatch says so. */
  nan: boolean;
  /** Preferred bar width (clamped to LEGEND_BAR_WIDTH_RANGE). */
  barWidth: number;
}

function legendTicks(spec: LegendSpec): { at: number; text: string }[] {
  if (!(spec.scale > 0)) return [{ at: 0.5, text: '0 (all zero)' }];
  const s = spec.scale;
  return [-s, -s / 2, 0, s / 2, s].map((v, i) => {
    const text = formatNumber(v);
    return { at: i / 4, text: i === 0 && spec.clipped ? `≤${text}` : i === 4 && spec.clipped ? `≥${text}` : text };
  });
}

const NAN_SWATCH = { gap: 14, size: 12, text: 'NaN' };

export function legendSize(spec: LegendSpec): { width: number; height: number; barWidth: number; overhang: number } {
  const barWidth = Math.round(Math.max(LEGEND_BAR_WIDTH_RANGE[0], Math.min(LEGEND_BAR_WIDTH_RANGE[1], spec.barWidth)));
  const ticks = legendTicks(spec);
  const overhang = Math.ceil(
    Math.max(0, ...ticks.filter((t) => t.at === 0 || t.at === 1).map((t) => textWidth(t.text, LEGEND_LABEL_SIZE) / 2)),
  );
  const nanWidth = spec.nan ? NAN_SWATCH.gap + NAN_SWATCH.size + 4 + Math.ceil(textWidth(NAN_SWATCH.text, LEGEND_LABEL_SIZE)) : 0;
  return { width: barWidth + 2 * overhang + Math.max(0, nanWidth - overhang), height: LEGEND_HEIGHT, barWidth, overhang };
}

/** A horizontal colour bar with the scale's numbers under it, its box's top-left corner at (x, y). */
export function drawLegend(figure: Figure, x: number, y: number, spec: LegendSpec): void {
  const { barWidth, overhang } = legendSize(spec);
  const barX = x + overhang;
  figure.fillRect(barX - 1, y - 1, barWidth + 2, LEGEND_BAR_HEIGHT + 2, GAP_GREY);
  const rgb = new Uint8Array(barWidth * 3);
  for (let i = 0; i < barWidth; i++) {
    const value = spec.scale > 0 ? spec.scale * ((2 * (i + 0.5)) / barWidth - 1) : 0;
    rgb.set(spec.scale > 0 ? divergingColour(value, spec.scale) : WHITE, 3 * i);
  }
  for (let row = 0; row < LEGEND_BAR_HEIGHT; row++) figure.image(barX, y + row, barWidth, 1, rgb, 1);
  for (const tick of legendTicks(spec)) {
    const tickX = barX + Math.min(barWidth - 0.5, Math.max(0.5, tick.at * barWidth));
    figure.line(tickX, y + LEGEND_BAR_HEIGHT + 1, tickX, y + LEGEND_BAR_HEIGHT + 4, { colour: '#555555', width: 1 });
    figure.text(tickX, y + LEGEND_BAR_HEIGHT + 4 + LEGEND_LABEL_SIZE, tick.text, {
      size: LEGEND_LABEL_SIZE,
      anchor: 'middle',
      colour: '#333333',
    });
  }
  if (spec.nan) {
    const swatchX = barX + barWidth + NAN_SWATCH.gap;
    figure.fillRect(swatchX, y, NAN_SWATCH.size, NAN_SWATCH.size, NAN_GREY);
    figure.text(swatchX + NAN_SWATCH.size + 4, y + NAN_SWATCH.size - 1, NAN_SWATCH.text, { size: LEGEND_LABEL_SIZE, colour: '#333333' });
  }
}

/** A titled map with optional legend, laid out as a box the caller places. */
export interface PanelBlock {
  width: number;
  height: number;
  geometry: MapGeometry;
  /** Grid corner relative to the block's corner. */
  gridX: number;
  gridY: number;
  draw(figure: Figure, x: number, y: number): void;
}

export interface PanelLayoutOptions {
  cellSize: number | undefined;
  targetWidth: number;
  titleSize: number;
  scale: number;
  legend: boolean;
  /** Reserve this much height for the grid (to align legends of panels side by side). */
  gridAreaHeight?: number;
  /** Cap on the title's width; longer titles are cut with an ellipsis. */
  maxTitleWidth?: number;
  /** Print the shape line under the title (a sheet of same-shaped maps prints it once instead). */
  subtitle: boolean;
}

const ROW_LABEL_GAP = 4;

export function layoutPanel(panel: MapPanel, options: PanelLayoutOptions): PanelBlock {
  const geometry = mapGeometry(panel.shape, options.cellSize, options.targetWidth);
  const title = options.maxTitleWidth !== undefined ? fitText(panel.title, options.maxTitleWidth, options.titleSize, 'bold') : panel.title;
  const subtitle = options.subtitle ? describeShape(panel.shape) : '';
  const labels = rowLabels(geometry);
  const labelWidth = labels.length === 0 ? 0 : Math.ceil(Math.max(...labels.map((l) => textWidth(l.text, ROW_LABEL_SIZE)))) + ROW_LABEL_GAP;
  const clipped = maxAbs(panel.values) > options.scale;
  const legend: LegendSpec = { scale: options.scale, clipped, nan: hasNaN(panel.values), barWidth: geometry.width };
  const legendBox = options.legend ? legendSize(legend) : { width: 0, height: 0 };
  // Row labels sit left of the grid; mirror their width on the right so the grid stays centred.
  const gridBlockWidth = geometry.width + 2 * labelWidth;
  const width = Math.ceil(
    Math.max(gridBlockWidth, legendBox.width, textWidth(title, options.titleSize, 'bold'), textWidth(subtitle, SUBTITLE_SIZE)),
  );
  const titleHeight = Math.round(options.titleSize * 1.35);
  const subtitleHeight = options.subtitle ? SUBTITLE_SIZE + 6 : 0;
  const gridY = titleHeight + subtitleHeight + 6;
  const gridArea = Math.max(geometry.height, options.gridAreaHeight ?? 0);
  const legendY = gridY + gridArea + 10;
  const height = options.legend ? legendY + legendBox.height : gridY + gridArea;
  const gridX = Math.floor((width - geometry.width) / 2);
  return {
    width,
    height,
    geometry,
    gridX,
    gridY,
    draw(figure, x, y) {
      figure.text(x + width / 2, y + options.titleSize, title, {
        size: options.titleSize,
        weight: 'bold',
        anchor: 'middle',
        colour: '#111111',
      });
      if (options.subtitle)
        figure.text(x + width / 2, y + titleHeight + SUBTITLE_SIZE, subtitle, { size: SUBTITLE_SIZE, anchor: 'middle', colour: '#666666' });
      drawGrid(figure, x + gridX, y + gridY, geometry, panel.values, options.scale);
      for (const label of labels) {
        const centre = y + gridY + tileOrigin(geometry, label.row * geometry.gridCols).y + geometry.tileHeight / 2;
        figure.text(x + gridX - ROW_LABEL_GAP, centre + ROW_LABEL_SIZE * 0.35, label.text, {
          size: ROW_LABEL_SIZE,
          anchor: 'end',
          colour: '#777777',
        });
      }
      if (options.legend) drawLegend(figure, x + Math.floor((width - legendBox.width) / 2), y + legendY, legend);
    },
  };
}

function checkScale(scale: number | undefined, where: string): void {
  if (scale !== undefined && !(Number.isFinite(scale) && scale >= 0)) {
    throw usageError(
      `${where}: scale ${scale} is not a finite number >= 0: pass the half-range of the colour scale, ` +
        `or omit it to use the map's max |value|`,
    );
  }
}

/** Where renderHeatmap puts things, for callers (and tests) that need pixel positions. */
export function layoutHeatmap(
  panel: MapPanel,
  options: HeatmapOptions = {},
): { width: number; height: number; gridX: number; gridY: number; geometry: MapGeometry; scale: number; block: PanelBlock } {
  checkPanel(panel, 'renderHeatmap');
  checkCellSize(options.cellSize, 'renderHeatmap');
  checkScale(options.scale, 'renderHeatmap');
  const scale = options.scale ?? maxAbs(panel.values);
  const block = layoutPanel(panel, {
    cellSize: options.cellSize,
    targetWidth: TARGET_MAP_WIDTH,
    titleSize: 16,
    scale,
    legend: true,
    subtitle: true,
  });
  return {
    width: block.width + 2 * MARGIN,
    height: block.height + 2 * MARGIN,
    gridX: MARGIN + block.gridX,
    gridY: MARGIN + block.gridY,
    geometry: block.geometry,
    scale,
    block,
  };
}

/**
 * One heat map as PNG. Diverging colour map: negative blue, zero white, positive red, symmetric about
 * zero (default scale max |value|, or options.scale), with a legend bar carrying the scale's numbers.
 * NaN cells are mid grey; grid slots past the last channel/unit light grey.
 */
export function renderHeatmap(panel: MapPanel, options: HeatmapOptions = {}): Buffer {
  const layout = layoutHeatmap(panel, options);
  const figure = new Figure(layout.width, layout.height);
  layout.block.draw(figure, MARGIN, MARGIN);
  return figure.toPng();
}
