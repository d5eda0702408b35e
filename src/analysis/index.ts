export * from './constants.js';
export * from './bug-detection.js';
export * from './feature-models.js';
export * from './layer-selection.js';
export * from './heatmaps.js';
export * from './analyze.js';
export * from './analysis-doc.js';
