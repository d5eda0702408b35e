/**
 * The views of an analysis (analysis.json): the buggy labels, validation accuracy of every feature
 * model per label with each buggy label's target layer marked, and the heat map sheet of each buggy
 * label (HC, HM, HW, DHM, DHW), drawn by the PNG renderers and embedded as data URIs.
 */
import type { MapName } from '../../analysis/index.js';
import { labelSheet } from '../analysis-pictures.js';
import type { AnalysisDoc } from '../../analysis/index.js';
import { chartHtml, seriesStyle, type ChartSeries } from './chart.js';
import { escapeHtml, htmlTable, labelName, percent, pngDataUri, section } from './html.js';

function bugTable(analysis: AnalysisDoc, id: string): string {
  const names = analysis.classNames;
  if (analysis.bugs.length === 0) return `<p>No buggy label at theta ${analysis.theta.toFixed(3)} and gamma ${analysis.gamma}.</p>`;
  const rows = analysis.bugs.map((bug) => {
    const target = analysis.targets.find((t) => t.label === bug.label);
    const maps = analysis.maps.find((m) => m.label === bug.label);
    return [
      labelName(names, bug.label),
      bug.kind,
      percent(bug.trainAccuracy),
      percent(bug.validationAccuracy),
      target?.layerName ?? '-',
      target?.reason ?? '-',
      maps === undefined ? '-' : `${maps.counts.correct} / ${maps.counts.missed} / ${maps.counts.wronglyClaimed}`,
      maps === undefined ? '-' : labelName(names, maps.confusedWith),
    ];
  });
  return htmlTable({
    id,
    head: [
      'label',
      'bug',
      'train acc',
      'validation acc',
      'target layer',
      { text: 'why this layer', title: `layer selection rule: ${analysis.options.layerSelection}` },
      { text: 'correct / missed / wrongly claimed', title: 'validation inputs behind HC, HM and HW' },
      'most confused with',
    ],
    rows,
  });
}

/** Validation accuracy of each probe's feature model per label; buggy labels drawn thick, their target layers marked. */
function layerChart(analysis: AnalysisDoc, id: string): string {
  const names = analysis.classNames;
  const buggy = new Set(analysis.bugs.map((b) => b.label));
  const series: ChartSeries[] = names.map((_, l) => {
    const style = seriesStyle(l);
    return {
      name: `${labelName(names, l)}${buggy.has(l) ? ' (buggy)' : ''}`,
      values: analysis.probes.map((p) => p.validation.perLabel[l] ?? null),
      colour: buggy.has(l) ? style.colour : `${style.colour}80`,
      point: style.point,
      emphasis: buggy.has(l),
    };
  });
  const markers = analysis.targets.map((t) => ({
    category: t.probe,
    text: `target layer of ${labelName(names, t.label)}`,
    colour: seriesStyle(t.label).colour,
  }));
  return chartHtml(
    {
      id,
      kind: 'line',
      title: 'Validation accuracy of the feature model at each layer, per label',
      xLabel: 'layer (a softmax head trained on its activations)',
      yLabel: 'validation accuracy',
      categories: analysis.probes.map((p) => `${p.name} [${p.shape.join('\u00D7')}]`),
      series,
      markers,
      yRange: [0, 1],
      caption:
        `Buggy labels thick and bold in the legend, the others faded. A dashed line marks where each buggy label's bug starts ` +
        `(rule: ${analysis.options.layerSelection}).`,
    },
    { height: 380 },
  );
}

const nullToNaN = (values: readonly (number | null)[]): Float32Array => Float32Array.from(values, (v) => (v === null ? NaN : v));

function sheets(analysis: AnalysisDoc, idPrefix: string): string {
  const names = analysis.classNames;
  if (analysis.maps.length === 0) return '<p>No buggy label, so no heat maps.</p>';
  return analysis.maps
    .map((m) => {
      const target = analysis.targets.find((t) => t.label === m.label);
      const maps = Object.fromEntries(Object.entries(m.maps).map(([k, v]) => [k, nullToNaN(v)])) as Record<MapName, Float32Array>;
      const png = labelSheet({ ...m, maps, kind: target?.kind ?? 'buggy', layerName: m.layerName ?? target?.layerName ?? '?' }, (l) =>
        labelName(names, l),
      );
      const alt = `Heat maps of label ${labelName(names, m.label)} at ${m.layerName ?? 'the input'}: HC, HM, HW, DHM and DHW side by side`;
      return (
        `<figure class="picture" id="${escapeHtml(`${idPrefix}-sheet-${m.label}`)}">` +
        `<img src="${pngDataUri(png)}" alt="${escapeHtml(alt)}"><figcaption>Label ${escapeHtml(labelName(names, m.label))}: ` +
        `${escapeHtml(m.variant)} maps over ${m.counts.correct} correctly classified (HC), ` +
        `${m.counts.missed} missed (HM) and ${m.counts.wronglyClaimed} wrongly claimed (HW) validation inputs; DHM = HC \u2212 HM, ` +
        `DHW = HW \u2212 HC. Red: positive, blue: negative, white: zero; each panel on its own symmetric scale.</figcaption></figure>`
      );
    })
    .join('\n');
}

/** What a heat map variant shows, per neuron. */
const VARIANT_TEXT: Readonly<Record<string, string>> = {
  importance: "Each neuron's mean contribution to the label's logit (activation \u00D7 head weight)",
  weights: 'The head weight of each neuron for the label',
  activation: "Each neuron's mean activation",
  'input-mean': 'The mean input (pixel by pixel)',
};

export function analysisSections(analysis: AnalysisDoc, idPrefix = 'analysis'): { id: string; title: string; html: string }[] {
  const lead =
    `${escapeHtml(analysis.dataset)}, seed ${analysis.seed}. Underfitting: train and validation accuracy below theta ` +
    `${analysis.theta.toFixed(3)}; overfitting: train \u2212 validation above gamma ${analysis.gamma}.`;
  return [
    {
      id: `${idPrefix}-bugs`,
      title: 'Buggy labels',
      html: section(
        `${idPrefix}-bugs`,
        'Buggy labels and the layer where each bug starts',
        lead,
        `${bugTable(analysis, `${idPrefix}-bug-table`)}\n${layerChart(analysis, `${idPrefix}-layers`)}`,
      ),
    },
    {
      id: `${idPrefix}-sheets`,
      title: 'Heat maps',
      html: section(
        `${idPrefix}-sheets`,
        'Heat map sheets per buggy label',
        `${VARIANT_TEXT[analysis.options.heatmap] ?? escapeHtml(analysis.options.heatmap)} over the correctly handled, ` +
          `missed and wrongly claimed validation inputs of the label, and their differences.`,
        sheets(analysis, idPrefix),
      ),
    },
  ];
}
