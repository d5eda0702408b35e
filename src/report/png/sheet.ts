/** A titled sheet of heat maps side by side, e.g. HC, HM, HW, DHM, DHW for one buggy label. */
import { usageError } from '../../core/errors.js';
import { Figure } from './figure.js';
import { fitText, textWidth } from './font.js';
import {
  checkCellSize,
  checkPanel,
  describeShape,
  drawLegend,
  hasNaN,
  layoutPanel,
  legendSize,
  mapGeometry,
  MARGIN,
  maxAbs,
  type LegendSpec,
  type MapPanel,
  type PanelBlock,
} from './heatmap.js';

const SHEET_SCALES = ['shared', 'per-panel'] as const;
type SheetScale = (typeof SHEET_SCALES)[number];

export interface SheetOptions {
  /**
   * 'per-panel' (default): each map scaled to its own max |value|, each with its own legend (right for
   * differential maps, whose range differs from the H maps'). 'shared': one scale, the max |value| over
   * all panels, and one legend under the sheet.
   */
  scale?: SheetScale;
  /** Side of one cell in px, for every panel. Default: chosen per panel to be about PANEL_TARGET_WIDTH wide. */
  cellSize?: number;
}

/** Width each panel's grid aims for when no cellSize is given (5 panels fit a laptop screen). */
const PANEL_TARGET_WIDTH = 240;
export const PANEL_GAP = 28;
const SHEET_TITLE_SIZE = 18;
const PANEL_TITLE_SIZE = 14;
const SHEET_SUBTITLE_SIZE = 13;
/** A panel title wider than its map by more than this is cut with an ellipsis. */
const MAX_PANEL_TITLE_WIDTH = 320;

/** Where renderSheet puts things: sheet size and each panel's box and grid corner. */
export function layoutSheet(
  title: string,
  panels: readonly MapPanel[],
  options: SheetOptions = {},
): { width: number; height: number; panels: { x: number; y: number; block: PanelBlock }[]; draw(figure: Figure): void } {
  if (typeof title !== 'string') throw usageError(`renderSheet: title must be a string, got ${typeof title}`);
  if (!Array.isArray(panels) || panels.length === 0)
    throw usageError('renderSheet: no panels given: expected at least one map (e.g. HC, HM, HW, DHM, DHW)');
  panels.forEach((panel, i) => checkPanel(panel, `renderSheet panel ${i}`));
  checkCellSize(options.cellSize, 'renderSheet');
  const mode = options.scale ?? 'per-panel';
  if (!SHEET_SCALES.includes(mode))
    throw usageError(`renderSheet: unknown scale '${String(mode)}': must be one of [${SHEET_SCALES.join(', ')}]`);

  const shared = mode === 'shared';
  const sharedScale = Math.max(0, ...panels.map((p) => maxAbs(p.values)));
  // Same-shaped panels (the usual case) get the shape line once, under the sheet title.
  const sameShape = panels.every((p) => p.shape.join() === panels[0]!.shape.join());
  const sheetSubtitle = sameShape ? describeShape(panels[0]!.shape) : '';
  const gridAreaHeight = Math.max(...panels.map((p) => mapGeometry(p.shape, options.cellSize, PANEL_TARGET_WIDTH).height));
  const blocks = panels.map((panel) =>
    layoutPanel(panel, {
      cellSize: options.cellSize,
      targetWidth: PANEL_TARGET_WIDTH,
      titleSize: PANEL_TITLE_SIZE,
      scale: shared ? sharedScale : maxAbs(panel.values),
      legend: !shared,
      gridAreaHeight,
      maxTitleWidth: MAX_PANEL_TITLE_WIDTH,
      subtitle: !sameShape,
    }),
  );
  const sharedLegend: LegendSpec = { scale: sharedScale, clipped: false, nan: panels.some((p) => hasNaN(p.values)), barWidth: 300 };
  const sharedLegendBox = shared ? legendSize(sharedLegend) : { width: 0, height: 0 };

  const panelsWidth = blocks.reduce((sum, b) => sum + b.width, 0) + PANEL_GAP * (blocks.length - 1);
  const titleText = title;
  const titleHeight = Math.round(SHEET_TITLE_SIZE * 1.6) + (sameShape ? SHEET_SUBTITLE_SIZE + 8 : 0);
  const width =
    Math.ceil(
      Math.max(
        panelsWidth,
        textWidth(titleText, SHEET_TITLE_SIZE, 'bold'),
        textWidth(sheetSubtitle, SHEET_SUBTITLE_SIZE),
        sharedLegendBox.width,
      ),
    ) +
    2 * MARGIN;
  const panelsTop = MARGIN + titleHeight;
  const panelsHeight = Math.max(...blocks.map((b) => b.height));
  const legendY = panelsTop + panelsHeight + 14;
  const height = (shared ? legendY + sharedLegendBox.height : panelsTop + panelsHeight) + MARGIN;

  let x = MARGIN + Math.floor((width - 2 * MARGIN - panelsWidth) / 2);
  const placed = blocks.map((block) => {
    const at = { x, y: panelsTop, block };
    x += block.width + PANEL_GAP;
    return at;
  });
  return {
    width,
    height,
    panels: placed,
    draw(figure) {
      figure.text(MARGIN, MARGIN + SHEET_TITLE_SIZE, fitText(titleText, width - 2 * MARGIN, SHEET_TITLE_SIZE, 'bold'), {
        size: SHEET_TITLE_SIZE,
        weight: 'bold',
        colour: '#111111',
      });
      if (sameShape)
        figure.text(MARGIN, MARGIN + SHEET_TITLE_SIZE + 8 + SHEET_SUBTITLE_SIZE, sheetSubtitle, {
          size: SHEET_SUBTITLE_SIZE,
          colour: '#555555',
        });
      for (const { x: px, y: py, block } of placed) block.draw(figure, px, py);
      if (shared) drawLegend(figure, Math.floor((width - sharedLegendBox.width) / 2), legendY, sharedLegend);
    },
  };
}

/**
 * A titled sheet: panels side by side, each titled, scaled per panel (default) or on one shared
 * symmetric scale with one legend. Sheet title at top, e.g. "label 3 (underfitting) at layer dense_2".
 */
export function renderSheet(title: string, panels: MapPanel[], options: SheetOptions = {}): Buffer {
  const layout = layoutSheet(title, panels, options);
  const figure = new Figure(layout.width, layout.height);
  layout.draw(figure);
  return figure.toPng();
}
