/**
 * The one font every PNG renderer uses: DejaVu Sans (regular and bold), shipped as .ttf files by the
 * `dejavu-fonts-ttf` npm package, so text never depends on the machine's system fonts. Besides the
 * file paths (handed to resvg), this reads each face's advance widths straight from its TrueType
 * tables, so layouts can size boxes around text before anything is rasterised.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The family name resvg matches `font-family` against. */
export const FONT_FAMILY = 'DejaVu Sans';

const FONT_DIRECTORY = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FACE_FILES = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf' } as const;
export type FontWeight = keyof typeof FACE_FILES;

/** Absolute paths of the bundled font files, in the form resvg's `font.fontFiles` takes. */
export const FONT_FILES: readonly string[] = Object.values(FACE_FILES).map((file) => join(FONT_DIRECTORY, file));

/** Horizontal metrics of one face: advance width (in em) per code point. */
interface FaceMetrics {
  advanceOf(codePoint: number): number;
}

const faces = new Map<FontWeight, FaceMetrics>();

function face(weight: FontWeight): FaceMetrics {
  let metrics = faces.get(weight);
  if (metrics === undefined) {
    metrics = parseFaceMetrics(readFileSync(join(FONT_DIRECTORY, FACE_FILES[weight])));
    faces.set(weight, metrics);
  }
  return metrics;
}

/** Width in px of `text` set at `size` px in the given weight (kerning ignored: a slight overestimate). */
export function textWidth(text: string, size: number, weight: FontWeight = 'regular'): number {
  const metrics = face(weight);
  let width = 0;
  for (const char of text) width += metrics.advanceOf(char.codePointAt(0) ?? 0);
  return width * size;
}

/** `text`, cut with an ellipsis so that it fits in `maxWidth` px. */
export function fitText(text: string, maxWidth: number, size: number, weight: FontWeight = 'regular'): string {
  if (textWidth(text, size, weight) <= maxWidth) return text;
  const chars = [...text];
  while (chars.length > 0 && textWidth(`${chars.join('')}…`, size, weight) > maxWidth) chars.pop();
  return `${chars.join('')}…`;
}

/**
 * Reads `head` (units per em), `hhea` + `hmtx` (advance widths) and `cmap` (format 4 or 12, the
 * Windows Unicode subtables) from a TrueType file. Characters the font lacks measure as glyph 0.
 */
function parseFaceMetrics(font: Buffer): FaceMetrics {
  const tables = new Map<string, number>();
  const numTables = font.readUInt16BE(4);
  for (let i = 0; i < numTables; i++) {
    const record = 12 + 16 * i;
    tables.set(font.toString('latin1', record, record + 4), font.readUInt32BE(record + 8));
  }
  const table = (tag: string): number => {
    const offset = tables.get(tag);
    if (offset === undefined) throw new Error(`font file lacks its '${tag}' table`);
    return offset;
  };
  const unitsPerEm = font.readUInt16BE(table('head') + 18);
  const numberOfHMetrics = font.readUInt16BE(table('hhea') + 34);
  const hmtx = table('hmtx');
  const advanceOfGlyph = (glyph: number): number => font.readUInt16BE(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1)) / unitsPerEm;
  const glyphOf = cmapLookup(font, table('cmap'));
  const cache = new Map<number, number>();
  return {
    advanceOf(codePoint: number): number {
      let advance = cache.get(codePoint);
      if (advance === undefined) {
        advance = advanceOfGlyph(glyphOf(codePoint));
        cache.set(codePoint, advance);
      }
      return advance;
    },
  };
}

function cmapLookup(font: Buffer, cmap: number): (codePoint: number) => number {
  const subtables: { platform: number; encoding: number; offset: number }[] = [];
  const count = font.readUInt16BE(cmap + 2);
  for (let i = 0; i < count; i++) {
    const record = cmap + 4 + 8 * i;
    subtables.push({
      platform: font.readUInt16BE(record),
      encoding: font.readUInt16BE(record + 2),
      offset: cmap + font.readUInt32BE(record + 4),
    });
  }
  const full = subtables.find((s) => s.platform === 3 && s.encoding === 10 && font.readUInt16BE(s.offset) === 12);
  if (full !== undefined) {
    const groups = font.readUInt32BE(full.offset + 12);
    return (codePoint) => {
      for (let g = 0; g < groups; g++) {
        const group = full.offset + 16 + 12 * g;
        const start = font.readUInt32BE(group);
        if (codePoint >= start && codePoint <= font.readUInt32BE(group + 4)) return font.readUInt32BE(group + 8) + codePoint - start;
      }
      return 0;
    };
  }
  const bmp = subtables.find((s) => s.platform === 3 && s.encoding === 1 && font.readUInt16BE(s.offset) === 4);
  if (bmp === undefined) throw new Error('font file has no Unicode cmap subtable of format 4 or 12');
  const base = bmp.offset;
  const segments = font.readUInt16BE(base + 6) / 2;
  const endCodes = base + 14;
  const startCodes = endCodes + 2 * segments + 2;
  const idDeltas = startCodes + 2 * segments;
  const idRangeOffsets = idDeltas + 2 * segments;
  return (codePoint) => {
    if (codePoint > 0xffff) return 0;
    for (let s = 0; s < segments; s++) {
      if (codePoint > font.readUInt16BE(endCodes + 2 * s)) continue;
      const start = font.readUInt16BE(startCodes + 2 * s);
      if (codePoint < start) return 0;
      const delta = font.readUInt16BE(idDeltas + 2 * s);
      const rangeOffset = font.readUInt16BE(idRangeOffsets + 2 * s);
      if (rangeOffset === 0) return (codePoint + delta) & 0xffff;
      const glyph = font.readUInt16BE(idRangeOffsets + 2 * s + rangeOffset + 2 * (codePoint - start));
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}
