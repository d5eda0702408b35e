/**
 * Charts of the report, drawn in the browser by Chart.js (bundled into the page, see chart-library.ts).
 * A chart is a plain spec (title, axis labels, categories, series) written into the page as JSON
 * beside its <canvas>; the boot script turns every spec into a Chart.js chart. Each chart also carries
 * its numbers as a table under a "data" disclosure, for screen readers and for copying.
 */
import { SERIES_PALETTE } from '../png/colour.js';
import { escapeHtml, htmlTable, percent, scriptJson } from './html.js';

export type PointStyle = 'circle' | 'rect' | 'triangle' | 'rectRot' | 'crossRot' | 'star' | 'rectRounded' | 'cross';
const POINT_STYLES: readonly PointStyle[] = ['circle', 'rect', 'triangle', 'rectRot', 'crossRot', 'star', 'rectRounded', 'cross'];

export interface ChartSeries {
  name: string;
  values: (number | null)[];
  colour: string;
  /** Dashed line (line charts): the control. */
  dash?: boolean;
  point?: PointStyle;
  /** Drawn thicker, on top. */
  emphasis?: boolean;
}

interface ChartMarker {
  /** Index into categories. */
  category: number;
  text: string;
  colour: string;
}

export interface ChartSpec {
  id: string;
  kind: 'line' | 'bar';
  title: string;
  xLabel: string;
  yLabel: string;
  categories: string[];
  series: ChartSeries[];
  /** y range; values are fractions shown as percentages. */
  yRange: [number, number];
  /** Dashed vertical lines at a category (the target layer). */
  markers?: ChartMarker[];
  /** One sentence under the chart saying what it shows. */
  caption: string;
}

/**
 * Colour and point style of series i: the Okabe-Ito colour-blind-safe palette (the PNG renderers'),
 * and a distinct point style each, so colour is never the only cue.
 */
export function seriesStyle(i: number): { colour: string; point: PointStyle } {
  return { colour: SERIES_PALETTE[i % SERIES_PALETTE.length]!, point: POINT_STYLES[i % POINT_STYLES.length]! };
}

/** The control is always this colour (Okabe-Ito vermillion) and dashed. */
export const CONTROL_COLOUR = '#D55E00';
/** "before" bars: neutral grey. */
export const BEFORE_COLOUR = '#8C8C8C';

/** Tick steps a y range is rounded to, as fractions (0.5 to 10 percentage points). */
const NICE_STEPS = [0.005, 0.01, 0.02, 0.05, 0.1] as const;

/** A y range around the values, padded and rounded out to a whole tick step (about 6 ticks), within [0, 1]. */
export function fitRange(values: readonly (number | null)[], minimumSpan = 0.04): [number, number] {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return [0, 1];
  let low = Math.min(...finite);
  let high = Math.max(...finite);
  const pad = Math.max((high - low) * 0.08, 0.004);
  low -= pad;
  high += pad;
  if (high - low < minimumSpan) {
    const mid = (low + high) / 2;
    low = mid - minimumSpan / 2;
    high = mid + minimumSpan / 2;
  }
  // Near 0 or 1 the range slides inward rather than shrinking.
  if (high > 1) [low, high] = [low - (high - 1), 1];
  if (low < 0) [low, high] = [0, high - low];
  const step = NICE_STEPS.find((s) => (high - low) / s <= 8) ?? 0.1;
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  return [Math.max(0, round(Math.floor(low / step) * step)), Math.min(1, round(Math.ceil(high / step) * step))];
}

/** The chart's figure: canvas, caption, data table, spec. */
export function chartHtml(spec: ChartSpec, options: { height?: number } = {}): string {
  const label = `${spec.title}. ${spec.caption}`;
  const data = htmlTable({
    head: [spec.xLabel, ...spec.series.map((s) => s.name)],
    rows: spec.categories.map((c, i) => [c, ...spec.series.map((s) => percent(s.values[i] ?? null, 2))]),
    className: 'data compact',
  });
  return [
    `<figure class="chart" id="${escapeHtml(spec.id)}-figure">`,
    `<div class="chart-box" style="height:${options.height ?? 340}px">` +
      `<canvas id="${escapeHtml(spec.id)}" role="img" aria-label="${escapeHtml(label)}"></canvas></div>`,
    `<figcaption>${escapeHtml(spec.caption)}</figcaption>`,
    `<details class="chart-data"><summary>Data of this chart</summary>${data}</details>`,
    `<script type="application/json" class="chart-spec" data-canvas="${escapeHtml(spec.id)}">${scriptJson(spec)}</script>`,
    '</figure>',
  ].join('\n');
}

/**
 * The page's chart boot script: builds every spec with Chart.js. Percent axes and tooltips, a legend
 * with point styles, titles and axis titles always on, no animation (a report, not a show), and a
 * small plugin that draws the dashed target-layer markers.
 */
export const CHART_BOOT_SCRIPT =
  `
(function () {
  'use strict';
  if (typeof Chart === 'undefined') { throw new Error('Chart.js did not load'); }
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 13;
  Chart.defaults.color = '#222';
  var markerPlugin = {
    id: 'modeMarkers',
    afterDatasetsDraw: function (chart, _args, options) {
      var markers = (options && options.markers) || [];
      var ctx = chart.ctx, area = chart.chartArea, x = chart.scales.x;
      markers.forEach(function (m, k) {
        var px = x.getPixelForValue(m.category);
        ctx.save();
        ctx.strokeStyle = m.colour; ctx.lineWidth = 2; ctx.setLineDash([6, 4]);
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
        ctx.setLineDash([]);
        ctx.font = 'bold 12px ' + Chart.defaults.font.family;
        var w = ctx.measureText(m.text).width;
        var right = px + 6 + w < area.right;
        var tx = right ? px + 6 : px - 6 - w, ty = area.bottom - 8 - k * 18;
        ctx.fillStyle = 'rgba(255,255,255,0.9)'; ctx.fillRect(tx - 3, ty - 13, w + 6, 17);
        ctx.fillStyle = m.colour; ctx.fillText(m.text, tx, ty);
        ctx.restore();
      });
    }
  };
  function pct(v, digits) { return v === null || v === undefined ? '-' : (100 * v).toFixed(digits) + '%'; }
  function build(spec) {
    var line = spec.kind === 'line';
    var datasets = spec.series.map(function (s) {
      return {
        label: s.name, data: s.values, borderColor: s.colour, backgroundColor: line ? s.colour : s.colour + 'D9',
        borderDash: s.dash ? [7, 5] : [], pointStyle: s.point || 'circle', pointRadius: line ? (s.emphasis ? 5 : 4) : 0,
        pointHoverRadius: 7, borderWidth: line ? (s.emphasis ? 3.5 : 2.2) : 1, order: s.emphasis ? 0 : 1, spanGaps: false
      };
    });
    return {
      type: spec.kind,
      data: { labels: spec.categories, datasets: datasets },
      plugins: [markerPlugin],
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        plugins: {
          title: { display: true, text: spec.title, font: { size: 15, weight: 'bold' }, padding: { bottom: 10 } },
          legend: { position: spec.series.length > 4 ? 'right' : 'bottom', labels: { usePointStyle: true, pointStyleWidth: 16, ` +
  `boxHeight: 9, padding: 14 } },
          tooltip: { callbacks: { label: function (c) { return c.dataset.label + ': ' + pct(c.parsed.y, 2); } } },
          modeMarkers: { markers: spec.markers || [] }
        },
        scales: {
          x: { title: { display: true, text: spec.xLabel, font: { size: 13, weight: 'bold' } }, ` +
  `grid: { display: !line ? false : true, color: '#eee' } },
          y: {
            min: spec.yRange[0], max: spec.yRange[1],
            title: { display: true, text: spec.yLabel, font: { size: 13, weight: 'bold' } },
            ticks: { callback: function (v) { return pct(v, spec.yRange[1] - spec.yRange[0] <= 0.04 ? 1 : 0); } },
            grid: { color: '#e6e6e6' }
          }
        }
      }
    };
  }
  document.querySelectorAll('script.chart-spec').forEach(function (el) {
    var spec = JSON.parse(el.textContent);
    var canvas = document.getElementById(el.getAttribute('data-canvas'));
    new Chart(canvas, build(spec));
  });
})();
`;
