/**
 * A line chart of per-label accuracy over probe points: categorical x, one line per label with its own
 * colour (colour-blind-safe palette) and marker shape, highlighted labels drawn thick on top of the
 * others, and optional dashed vertical markers at a label's target probe.
 */
import { shapeError, usageError } from '../../core/errors.js';
import { darken, seriesColour } from './colour.js';
import { coord, Figure, strokeAttributes } from './figure.js';
import { fitText, textWidth } from './font.js';
import { niceTicks, tickDecimals } from './format.js';
import { MARGIN } from './heatmap.js';

interface LineChartSeries {
  name: string;
  values: (number | null)[];
  highlight?: boolean;
}

interface LineChartMarker {
  /** Name of the series whose colour the marker takes. */
  series: string;
  /** Index into categories. */
  category: number;
  /** Text beside the marker, e.g. "target 3". */
  note: string;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  categories: string[];
  series: LineChartSeries[];
  markers?: LineChartMarker[];
  /** y-axis range; default [0, 1]. */
  yRange?: [number, number];
}

const TITLE_SIZE = 17;
const AXIS_LABEL_SIZE = 13;
const TICK_SIZE = 12;
const LEGEND_SIZE = 12;
const NOTE_SIZE = 12;
const PLOT_HEIGHT = 320;
const PLOT_WIDTH_RANGE = [420, 900] as const;
const MIN_BAND = 56;
const ROTATED_LABEL_DEGREES = 40;
const LEGEND_ROW = 20;
const LEGEND_SAMPLE = 28;
const MAX_CATEGORY_LABEL_WIDTH = 160;
const MAX_LEGEND_NAME_WIDTH = 200;

/** Stroke and marker look of a series, by whether it is highlighted and whether anything is. */
const STYLE = {
  highlighted: { width: 3.5, opacity: 1, radius: 5.5 },
  faded: { width: 1.6, opacity: 0.5, radius: 3.5 },
  plain: { width: 2.2, opacity: 1, radius: 4.5 },
} as const;

const MARKER_SHAPES = [
  'circle',
  'square',
  'triangle-up',
  'diamond',
  'triangle-down',
  'pentagon',
  'star',
  'hexagon',
  'triangle-left',
  'triangle-right',
] as const;

function polygon(x: number, y: number, radius: number, sides: number, rotation: number, inner?: number): string {
  const points: string[] = [];
  const count = inner === undefined ? sides : 2 * sides;
  for (let i = 0; i < count; i++) {
    const r = inner !== undefined && i % 2 === 1 ? radius * inner : radius;
    const angle = rotation + (2 * Math.PI * i) / count;
    points.push(`${coord(x + r * Math.sin(angle))},${coord(y - r * Math.cos(angle))}`);
  }
  return `<polygon points="${points.join(' ')}"`;
}

/** An SVG marker of series `index`'s shape centred on (x, y), `r` about its circumradius. */
function markerElement(index: number, x: number, y: number, r: number, paint: string): string {
  const shape = MARKER_SHAPES[index % MARKER_SHAPES.length]!;
  let open: string;
  switch (shape) {
    case 'circle':
      open = `<circle cx="${coord(x)}" cy="${coord(y)}" r="${coord(r * 0.9)}"`;
      break;
    case 'square':
      open = `<rect x="${coord(x - r * 0.8)}" y="${coord(y - r * 0.8)}" width="${coord(r * 1.6)}" height="${coord(r * 1.6)}"`;
      break;
    case 'triangle-up':
      open = polygon(x, y + r * 0.15, r * 1.15, 3, 0);
      break;
    case 'diamond':
      open = polygon(x, y, r * 1.1, 4, 0);
      break;
    case 'triangle-down':
      open = polygon(x, y - r * 0.15, r * 1.15, 3, Math.PI);
      break;
    case 'pentagon':
      open = polygon(x, y, r, 5, 0);
      break;
    case 'star':
      open = polygon(x, y, r * 1.25, 5, 0, 0.5);
      break;
    case 'hexagon':
      open = polygon(x, y, r, 6, 0);
      break;
    case 'triangle-left':
      open = polygon(x + r * 0.15, y, r * 1.15, 3, -Math.PI / 2);
      break;
    case 'triangle-right':
      open = polygon(x - r * 0.15, y, r * 1.15, 3, Math.PI / 2);
      break;
  }
  return `${open} ${paint}/>`;
}

function checkChart(chart: LineChart): { low: number; high: number } {
  const where = 'renderLineChart';
  for (const key of ['title', 'xLabel', 'yLabel'] as const) {
    if (typeof chart[key] !== 'string') throw usageError(`${where}: ${key} must be a string, got ${typeof chart[key]}`);
  }
  if (!Array.isArray(chart.categories) || chart.categories.length === 0)
    throw usageError(`${where}: no categories given: expected the probe point names for the x axis`);
  if (!Array.isArray(chart.series)) throw usageError(`${where}: series must be an array`);
  for (const series of chart.series) {
    if (!Array.isArray(series.values) || series.values.length !== chart.categories.length) {
      throw shapeError(
        `${where}: series '${series.name}' has ${Array.isArray(series.values) ? series.values.length : 'no'} values for ` +
          `${chart.categories.length} categories: expected one value (or null) per category`,
      );
    }
  }
  const [low, high] = chart.yRange ?? [0, 1];
  if (!(Number.isFinite(low) && Number.isFinite(high) && low < high))
    throw usageError(`${where}: yRange [${low}, ${high}] is not a finite range with low < high`);
  const names = chart.series.map((s) => s.name);
  for (const marker of chart.markers ?? []) {
    if (!names.includes(marker.series))
      throw usageError(`${where}: marker for unknown series '${marker.series}': must be one of [${names.join(', ')}]`);
    if (!(Number.isInteger(marker.category) && marker.category >= 0 && marker.category < chart.categories.length)) {
      throw usageError(
        `${where}: marker category ${marker.category} for series '${marker.series}' is out of range: expected a category index in [0, ` +
          `${chart.categories.length - 1}]`,
      );
    }
  }
  return { low, high };
}

/**
 * A line chart: x = probe points (categorical), y = accuracy (default range [0, 1]); one line per
 * series with markers, a legend, axis labels and a title; dashed vertical markers with notes.
 * Highlighted series are drawn thicker, on top; the others thinner and faded. null values leave gaps.
 */
export function renderLineChart(chart: LineChart): Buffer {
  const { low, high } = checkChart(chart);
  const categories = chart.categories.map((c) => fitText(String(c), MAX_CATEGORY_LABEL_WIDTH, TICK_SIZE));
  const yTicks = niceTicks(low, high, 5);
  const decimals = tickDecimals(yTicks);
  const yTickTexts = yTicks.map((t) => t.toFixed(decimals).replace('-', '\u2212'));
  const yTickWidth = Math.ceil(Math.max(...yTickTexts.map((t) => textWidth(t, TICK_SIZE))));

  const n = categories.length;
  const categoryWidth = Math.ceil(Math.max(...categories.map((c) => textWidth(c, TICK_SIZE))));
  const plotWidth = Math.max(PLOT_WIDTH_RANGE[0], Math.min(PLOT_WIDTH_RANGE[1], n * Math.max(MIN_BAND, categoryWidth + 14)));
  const band = plotWidth / n;
  const rotate = categoryWidth + 6 > band;
  const radians = (ROTATED_LABEL_DEGREES * Math.PI) / 180;
  const xTickHeight = rotate ? Math.ceil(categoryWidth * Math.sin(radians) + TICK_SIZE) + 10 : TICK_SIZE + 10;

  const highlightAny = chart.series.some((s) => s.highlight === true);
  const legendNames = chart.series.map((s) =>
    fitText(String(s.name), MAX_LEGEND_NAME_WIDTH, LEGEND_SIZE, s.highlight === true ? 'bold' : 'regular'),
  );
  const legendWidth =
    chart.series.length === 0
      ? 0
      : LEGEND_SAMPLE +
        8 +
        Math.ceil(
          Math.max(...legendNames.map((name, i) => textWidth(name, LEGEND_SIZE, chart.series[i]!.highlight === true ? 'bold' : 'regular'))),
        );

  // Rotated category labels hang down-left from their tick: keep the first one inside the figure.
  const firstLabelReach = rotate ? Math.ceil(categoryWidth * Math.cos(radians)) - band / 2 : Math.ceil(categoryWidth / 2 - band / 2);
  const plotLeft = Math.max(MARGIN + AXIS_LABEL_SIZE + 12 + yTickWidth + 8, MARGIN + firstLabelReach);
  const plotTop = MARGIN + TITLE_SIZE + 20;
  const plotRight = plotLeft + plotWidth;
  const plotBottom = plotTop + PLOT_HEIGHT;
  const legendX = plotRight + 24;
  const width = Math.ceil(Math.max(legendX + legendWidth + MARGIN, MARGIN + textWidth(chart.title, TITLE_SIZE, 'bold') + MARGIN));
  const xLabelY = plotBottom + xTickHeight + AXIS_LABEL_SIZE + 4;
  const height = Math.ceil(Math.max(xLabelY + MARGIN, plotTop + LEGEND_ROW * chart.series.length + MARGIN));

  const figure = new Figure(width, height);
  const xOf = (category: number): number => plotLeft + (category + 0.5) * band;
  const yOf = (value: number): number => plotBottom - ((value - low) / (high - low)) * PLOT_HEIGHT;

  figure.text(MARGIN, MARGIN + TITLE_SIZE, chart.title, { size: TITLE_SIZE, weight: 'bold', colour: '#111111' });

  // Grid, axes, ticks.
  yTicks.forEach((tick, i) => {
    const y = yOf(tick);
    figure.line(plotLeft, y, plotRight, y, { colour: '#e3e3e3', width: 1 });
    figure.line(plotLeft - 4, y, plotLeft, y, { colour: '#444444', width: 1 });
    figure.text(plotLeft - 7, y + TICK_SIZE * 0.35, yTickTexts[i]!, { size: TICK_SIZE, anchor: 'end', colour: '#333333' });
  });
  categories.forEach((name, i) => {
    const x = xOf(i);
    figure.line(x, plotTop, x, plotBottom, { colour: '#f0f0f0', width: 1 });
    figure.line(x, plotBottom, x, plotBottom + 4, { colour: '#444444', width: 1 });
    if (rotate)
      figure.text(x + 3, plotBottom + 8 + TICK_SIZE * 0.7, name, {
        size: TICK_SIZE,
        anchor: 'end',
        colour: '#333333',
        rotate: -ROTATED_LABEL_DEGREES,
      });
    else figure.text(x, plotBottom + 6 + TICK_SIZE, name, { size: TICK_SIZE, anchor: 'middle', colour: '#333333' });
  });
  figure.line(plotLeft, plotTop, plotLeft, plotBottom, { colour: '#444444', width: 1 });
  figure.line(plotLeft, plotBottom, plotRight, plotBottom, { colour: '#444444', width: 1 });
  figure.text(plotLeft + plotWidth / 2, xLabelY, chart.xLabel, { size: AXIS_LABEL_SIZE, anchor: 'middle', colour: '#222222' });
  const yLabelX = MARGIN + AXIS_LABEL_SIZE;
  figure.text(yLabelX, plotTop + PLOT_HEIGHT / 2, chart.yLabel, {
    size: AXIS_LABEL_SIZE,
    anchor: 'middle',
    colour: '#222222',
    rotate: -90,
  });

  const colourOf = new Map<string, string>();
  chart.series.forEach((s, i) => {
    if (!colourOf.has(s.name)) colourOf.set(s.name, seriesColour(i));
  });

  // Target markers go under the data; their notes are stacked from the top of the plot.
  (chart.markers ?? []).forEach((marker, k) => {
    const colour = colourOf.get(marker.series)!;
    const x = xOf(marker.category);
    figure.line(x, plotTop, x, plotBottom, { colour, width: 2, dash: '6 4' });
    const noteWidth = textWidth(marker.note, NOTE_SIZE, 'bold');
    const right = x + 6 + noteWidth <= plotRight - 2;
    const noteX = right ? x + 6 : x - 6;
    const baseline = plotTop + 4 + NOTE_SIZE + k * (NOTE_SIZE + 6);
    const boxX = right ? noteX - 2 : noteX - noteWidth - 2;
    figure.svg(
      `<rect x="${coord(boxX)}" y="${coord(baseline - NOTE_SIZE)}" width="${coord(noteWidth + 4)}" height="${NOTE_SIZE + 4}" ` +
        `fill="#ffffff" fill-opacity="0.85"/>`,
    );
    figure.text(noteX, baseline, marker.note, {
      size: NOTE_SIZE,
      weight: 'bold',
      anchor: right ? 'start' : 'end',
      colour: darken(colour, 0.25),
    });
  });

  // Series: faded ones first, highlighted ones last (on top).
  const pad = STYLE.highlighted.radius + 2;
  figure.svg(
    `<clipPath id="plot-area">` +
      `<rect x="${coord(plotLeft - pad)}" y="${coord(plotTop - pad)}" width="${coord(plotWidth + 2 * pad)}" ` +
      `height="${coord(PLOT_HEIGHT + 2 * pad)}"/></clipPath>`,
  );
  const order = chart.series
    .map((_, i) => i)
    .sort((a, b) => Number(chart.series[a]!.highlight === true) - Number(chart.series[b]!.highlight === true) || a - b);
  const parts: string[] = [];
  for (const i of order) {
    const series = chart.series[i]!;
    const style = !highlightAny ? STYLE.plain : series.highlight === true ? STYLE.highlighted : STYLE.faded;
    const colour = colourOf.get(series.name)!;
    const points = series.values.map((v, c) => (v === null || !Number.isFinite(v) ? null : { x: xOf(c), y: yOf(v) }));
    let run: string[] = [];
    const flush = (): void => {
      if (run.length > 1)
        parts.push(
          `<polyline points="${run.join(' ')}" fill="none" ${strokeAttributes({ colour, width: style.width, opacity: style.opacity })} ` +
            `stroke-linejoin="round" stroke-linecap="round"/>`,
        );
      run = [];
    };
    for (const p of points) {
      if (p === null) flush();
      else run.push(`${coord(p.x)},${coord(p.y)}`);
    }
    flush();
    const paint =
      series.highlight === true ? `fill="${colour}" stroke="#ffffff" stroke-width="1"` : `fill="${colour}" fill-opacity="${style.opacity}"`;
    for (const p of points) if (p !== null) parts.push(markerElement(i, p.x, p.y, style.radius, paint));
  }
  figure.svg(`<g clip-path="url(#plot-area)">${parts.join('')}</g>`);

  // Legend, in series order.
  chart.series.forEach((series, i) => {
    const style = !highlightAny ? STYLE.plain : series.highlight === true ? STYLE.highlighted : STYLE.faded;
    const colour = colourOf.get(series.name)!;
    const y = plotTop + 8 + i * LEGEND_ROW;
    figure.line(legendX, y, legendX + LEGEND_SAMPLE, y, { colour, width: style.width, opacity: style.opacity });
    const paint =
      series.highlight === true ? `fill="${colour}" stroke="#ffffff" stroke-width="1"` : `fill="${colour}" fill-opacity="${style.opacity}"`;
    figure.svg(markerElement(i, legendX + LEGEND_SAMPLE / 2, y, style.radius, paint));
    const bold = series.highlight === true;
    figure.text(legendX + LEGEND_SAMPLE + 8, y + LEGEND_SIZE * 0.35, legendNames[i]!, {
      size: LEGEND_SIZE,
      weight: bold ? 'bold' : 'regular',
      colour: bold ? '#111111' : '#444444',
    });
  });

  return figure.toPng();
}
