/** Colours shared by the PNG renderers: the diverging heat-map scale, the greys, the series palette. */
import type { Rgb } from './figure.js';

export const WHITE: Rgb = [255, 255, 255];
/** A cell whose value is NaN: mid grey, darker than any other grey on a map. */
export const NAN_GREY: Rgb = [128, 128, 128];
/** A grid slot past the last unit or channel: light neutral grey. */
export const UNUSED_GREY: Rgb = [217, 217, 217];
/** The 1-px lines between tiles and cells, and the frame around a grid. */
export const GAP_GREY: Rgb = [160, 160, 160];

/**
 * Diverging blue-white-red ("bwr"): 0 is white, +scale pure red, -scale pure blue, linear in between,
 * values past the scale clamped. A scale of 0 (an all-zero map) draws every finite value white.
 */
export function divergingColour(value: number, scale: number): Rgb {
  if (Number.isNaN(value)) return NAN_GREY;
  if (!(scale > 0)) return WHITE;
  const t = Math.max(-1, Math.min(1, value / scale));
  const fade = Math.round(255 * (1 - Math.abs(t)));
  return t >= 0 ? [255, fade, fade] : [fade, fade, 255];
}

/**
 * Series colours, none pale on white: the Okabe-Ito colour-blind-safe set less its yellow (7), then
 * wine, olive and indigo from Paul Tol's colour-blind-safe "muted" scheme. Series past ten reuse
 * colours, but every series also has its own marker shape, so colour is never the only cue.
 */
export const SERIES_PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#882255',
  '#999933',
  '#332288',
  '#000000',
] as const;

export function seriesColour(index: number): string {
  return SERIES_PALETTE[index % SERIES_PALETTE.length]!;
}

/** `colour` (#rrggbb) mixed with black, for text in a series' colour that must stay legible on white. */
export function darken(colour: string, amount: number): string {
  const channels = [1, 3, 5].map((i) => Math.round(parseInt(colour.slice(i, i + 2), 16) * (1 - amount)));
  return `#${channels.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}
