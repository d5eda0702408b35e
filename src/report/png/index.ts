/**
 * Pure PNG renderers for MODE's figures: heat maps, sheets of maps, accuracy line charts and image
 * galleries. Arrays in, PNG bytes (Buffer) out: no tfjs, no printing, no files written, same input
 * same bytes. Text is set in DejaVu Sans from the bundled `dejavu-fonts-ttf` package, never a system font.
 */
export { renderHeatmap, layoutHeatmap, type MapPanel, type HeatmapOptions } from './heatmap.js';
export { renderSheet, SHEET_SCALES, type SheetScale, type SheetOptions } from './sheet.js';
export { renderLineChart, type LineChart, type LineChartSeries, type LineChartMarker } from './line-chart.js';
export { renderGallery, type GalleryImage, type GalleryOptions } from './gallery.js';
export { divergingColour, SERIES_PALETTE } from './colour.js';
