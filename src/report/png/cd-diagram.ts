/**
 * A critical-difference diagram (Demsar 2006): an axis of mean ranks (1 = best, on the left), each
 * treatment's name joined to its mean rank (the better half on the left, the rest on the right), and
 * thick bars under the axis joining treatments that are not significantly different.
 */
import type { CriticalDifference } from '../../experiment/critical-difference.js';
import { Figure } from './figure.js';
import { fitText, textWidth } from './font.js';

const WIDTH = 900;
const MARGIN = 16;
const TITLE_SIZE = 15;
const LABEL_SIZE = 13;
const MAX_LABEL_WIDTH = 230;
const AXIS_Y = 80;
const BAR_GAP = 9;
const ROW_GAP = 22;
const INK = '#222222';
const BAR = '#D55E00';

const formatP = (p: number): string => (!Number.isFinite(p) ? 'n/a' : p < 0.001 ? p.toExponential(1) : p.toFixed(3));

export function renderCdDiagram(cd: CriticalDifference, title: string): Buffer {
  const k = cd.treatments.length;
  const labels = cd.treatments.map((t, i) => fitText(`${t} (${cd.meanRanks[i]!.toFixed(2)})`, MAX_LABEL_WIDTH, LABEL_SIZE));
  const labelWidth = Math.min(MAX_LABEL_WIDTH, Math.max(60, ...labels.map((l) => textWidth(l, LABEL_SIZE)))) + 12;
  const x0 = MARGIN + labelWidth;
  const x1 = WIDTH - MARGIN - labelWidth;
  const x = (rank: number): number => (k <= 1 ? (x0 + x1) / 2 : x0 + ((rank - 1) / (k - 1)) * (x1 - x0));
  const barsBottom = AXIS_Y + 14 + cd.cliques.length * BAR_GAP;
  const left = Math.ceil(k / 2);
  const rowsTop = barsBottom + 18;
  const height = rowsTop + Math.max(left, k - left) * ROW_GAP + MARGIN;
  const figure = new Figure(WIDTH, height);
  figure.text(MARGIN, MARGIN + TITLE_SIZE, fitText(title, WIDTH - 2 * MARGIN, TITLE_SIZE, 'bold'), { size: TITLE_SIZE, weight: 'bold' });
  figure.text(
    MARGIN,
    MARGIN + TITLE_SIZE + 18,
    `mean rank over ${cd.blocks} blocks (1 = best); Friedman p = ${formatP(cd.friedman.pValue)}; ` +
      `bars: not significantly different (Wilcoxon, Holm, alpha ${cd.alpha})`,
    { size: 12, colour: '#555555' },
  );
  // The axis with a tick per whole rank.
  figure.line(x0, AXIS_Y, x1, AXIS_Y, { colour: INK, width: 1.5 });
  for (let r = 1; r <= k; r++) {
    figure.line(x(r), AXIS_Y - 5, x(r), AXIS_Y, { colour: INK, width: 1 });
    figure.text(x(r), AXIS_Y - 9, String(r), { size: 11, anchor: 'middle' });
  }
  cd.cliques.forEach(([i, j], c) => {
    const y = AXIS_Y + 12 + c * BAR_GAP;
    figure.line(x(cd.meanRanks[i]!) - 4, y, x(cd.meanRanks[j]!) + 4, y, { colour: BAR, width: 4 });
  });
  cd.treatments.forEach((_, i) => {
    const rank = cd.meanRanks[i]!;
    const onLeft = i < left;
    // Left: best at the top; right: worst at the top, so lines never cross.
    const row = onLeft ? i : k - 1 - i;
    const y = rowsTop + row * ROW_GAP;
    const end = onLeft ? x0 - 6 : x1 + 6;
    figure.line(x(rank), AXIS_Y, x(rank), y, { colour: INK, width: 1 });
    figure.line(x(rank), y, end, y, { colour: INK, width: 1 });
    figure.text(onLeft ? end - 4 : end + 4, y + 4, labels[i]!, { size: LABEL_SIZE, anchor: onLeft ? 'end' : 'start' });
  });
  return figure.toPng();
}
