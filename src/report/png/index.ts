/**
 * Pure PNG renderers for MODE's figures: heat maps, sheets of maps, accuracy line charts and image
 * galleries. Arrays in, PNG bytes (Buffer) out: no tfjs, no printing, no files written, same input
 * same bytes. Text is set in DejaVu Sans from the bundled `dejavu-fonts-ttf` package, never a system font.
 */
export { renderHeatmap, layoutHeatmap, type MapPanel } from './heatmap.js';
export { renderSheet } from './sheet.js';
export { renderLineChart } from './line-chart.js';
export { renderGallery } from './gallery.js';
export { renderCdDiagram } from './cd-diagram.js';
export { SERIES_PALETTE } from './colour.js';
