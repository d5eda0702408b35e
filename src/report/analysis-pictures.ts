/**
 * The pictures of an analysis: per buggy label, each map alone and a sheet of HC, HM, HW, DHM, DHW
 * side by side; and a chart of validation accuracy per probe and label with the target layers marked.
 * Pure: returns file names and PNG bytes.
 */
import type { AnalysisResult, MapName } from '../analysis/index.js';
import { renderHeatmap, renderLineChart, renderSheet } from './png/index.js';

export interface Picture {
  readonly file: string;
  readonly png: Buffer;
}

const SHEET_MAPS: readonly MapName[] = ['hc', 'hm', 'hw', 'dhm', 'dhw'];

const MAP_TITLES: Record<MapName, string> = {
  hc: 'HC correct',
  hm: 'HM missed',
  hw: 'HW wrongly claimed',
  dhc: 'DHC vs most confused',
  dhm: 'DHM = HC - HM',
  dhw: 'DHW = HW - HC',
};

/** What one label's sheet is drawn from: its maps (analysis.json's or an AnalysisResult's) and its target. */
export interface SheetInput {
  readonly label: number;
  readonly variant: string;
  readonly shape: readonly number[];
  readonly counts: { readonly correct: number; readonly missed: number; readonly wronglyClaimed: number };
  readonly confusedWith: number;
  readonly maps: Readonly<Record<MapName, Float32Array | readonly number[]>>;
  readonly kind: string;
  readonly layerName: string;
}

function panelTitles(maps: SheetInput): Record<MapName, string> {
  const counts: Record<MapName, string> = {
    hc: `n=${maps.counts.correct}`,
    hm: `n=${maps.counts.missed}`,
    hw: `n=${maps.counts.wronglyClaimed}`,
    dhc: `vs ${maps.confusedWith}`,
    dhm: '',
    dhw: '',
  };
  return Object.fromEntries(
    (Object.keys(MAP_TITLES) as MapName[]).map((name) => [name, `${MAP_TITLES[name]}${counts[name] === '' ? '' : ` (${counts[name]})`}`]),
  ) as Record<MapName, string>;
}

/** The sheet of one buggy label: HC, HM, HW, DHM, DHW side by side, each on its own symmetric scale. */
export function labelSheet(maps: SheetInput, labelName: (l: number) => string): Buffer {
  const where = maps.variant === 'input-mean' ? 'input space' : `layer ${maps.layerName}`;
  const titles = panelTitles(maps);
  return renderSheet(
    `label ${labelName(maps.label)}: ${maps.kind}, ${maps.variant} maps at ${where}`,
    SHEET_MAPS.map((name) => ({ title: titles[name], values: maps.maps[name], shape: maps.shape })),
    { scale: 'per-panel' },
  );
}

export function analysisPictures(result: AnalysisResult, classNames: readonly string[]): Picture[] {
  const pictures: Picture[] = [];
  const labelName = (l: number): string =>
    classNames[l] === undefined || classNames[l] === String(l) ? String(l) : `${l} ${classNames[l]}`;
  pictures.push({ file: 'layers.png', png: layerChart(result, labelName) });
  for (const maps of result.maps) {
    const target = result.targets.find((t) => t.label === maps.label)!;
    const input: SheetInput = { ...maps, kind: target.kind, layerName: target.layerName };
    const titles = panelTitles(input);
    pictures.push({ file: `label-${maps.label}-sheet.png`, png: labelSheet(input, labelName) });
    for (const name of Object.keys(maps.maps) as MapName[]) {
      pictures.push({
        file: `label-${maps.label}-${name}.png`,
        png: renderHeatmap({ title: `label ${labelName(maps.label)} ${titles[name]}`, values: maps.maps[name], shape: maps.shape }),
      });
    }
  }
  return pictures;
}

function layerChart(result: AnalysisResult, labelName: (l: number) => string): Buffer {
  const numClasses = result.model.validation.perLabel.length;
  const buggy = new Set(result.bugReport.bugs.map((b) => b.label));
  return renderLineChart({
    title: 'Validation accuracy of each feature model, per label',
    xLabel: 'probe (feature model after this layer)',
    yLabel: 'validation accuracy',
    categories: result.probes.map((p) => p.probe.name),
    series: Array.from({ length: numClasses }, (_, l) => ({
      name: `${buggy.has(l) ? '* ' : ''}${labelName(l)}`,
      values: result.probes.map((p) => (Number.isFinite(p.validation.perLabel[l]) ? p.validation.perLabel[l]! : null)),
      highlight: buggy.has(l),
    })),
    markers: result.targets.map((t) => ({ series: `* ${labelName(t.label)}`, category: t.probe, note: `target ${t.label}` })),
    yRange: [0, 1],
  });
}
