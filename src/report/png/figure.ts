/**
 * A figure: a white canvas of whole pixels built from two layers. Vector parts (text, lines, markers)
 * are SVG elements rasterised by resvg with the bundled font only; data parts (heat-map cells, colour
 * bars, images) are exact pixel fills written afterwards, so a cell's colour is exactly the colour
 * map's value, never blended by anti-aliasing. Rendering is deterministic: same calls, same bytes.
 */
import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';
import { shapeError } from '../../core/errors.js';
import { FONT_FAMILY, FONT_FILES, type FontWeight } from './font.js';

export type Rgb = readonly [number, number, number];

/** Largest canvas we agree to draw (about 40 megapixels); past it, a smaller cellSize or scale is needed. */
const MAX_FIGURE_PIXELS = 40_000_000;

export interface TextStyle {
  size: number;
  weight?: FontWeight;
  anchor?: 'start' | 'middle' | 'end';
  colour?: string;
  /** Degrees, clockwise, about the anchor point. */
  rotate?: number;
}

export interface StrokeStyle {
  colour: string;
  width: number;
  dash?: string;
  opacity?: number;
}

type PixelPaint = (pixels: Buffer, width: number) => void;

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Keeps at most 2 decimals, so the SVG text (and so the bytes) never depends on float noise. */
export const coord = (v: number): string => String(Math.round(v * 100) / 100);

export class Figure {
  readonly width: number;
  readonly height: number;
  private readonly elements: string[] = [];
  private readonly paints: PixelPaint[] = [];

  constructor(width: number, height: number) {
    this.width = Math.ceil(width);
    this.height = Math.ceil(height);
    if (!(this.width > 0 && this.height > 0) || this.width * this.height > MAX_FIGURE_PIXELS) {
      throw shapeError(
        `figure of ${this.width} x ${this.height} px is out of range: expected at most ${MAX_FIGURE_PIXELS} pixels; ` +
          `pass a smaller cellSize or scale`,
      );
    }
  }

  /** A raw SVG element in figure coordinates (px); callers escape any text they put in it. */
  svg(element: string): void {
    this.elements.push(element);
  }

  /** Text whose baseline starts (or centres, or ends) at (x, y). */
  text(x: number, y: number, content: string, style: TextStyle): void {
    const attributes = [
      `x="${coord(x)}"`,
      `y="${coord(y)}"`,
      `font-size="${style.size}"`,
      `fill="${style.colour ?? '#222222'}"`,
      style.weight === 'bold' ? 'font-weight="bold"' : '',
      style.anchor !== undefined && style.anchor !== 'start' ? `text-anchor="${style.anchor}"` : '',
      style.rotate !== undefined ? `transform="rotate(${style.rotate} ${coord(x)} ${coord(y)})"` : '',
    ];
    this.svg(`<text ${attributes.filter((a) => a !== '').join(' ')}>${escapeXml(content)}</text>`);
  }

  line(x1: number, y1: number, x2: number, y2: number, stroke: StrokeStyle): void {
    this.svg(`<line x1="${coord(x1)}" y1="${coord(y1)}" x2="${coord(x2)}" y2="${coord(y2)}" ${strokeAttributes(stroke)}/>`);
  }

  /** An exact, un-antialiased rectangle of whole pixels, painted over the vector layer. */
  fillRect(x: number, y: number, w: number, h: number, colour: Rgb): void {
    this.paints.push((pixels, width) => {
      for (let row = y; row < y + h; row++) {
        for (let col = x; col < x + w; col++) {
          const at = 4 * (row * width + col);
          pixels[at] = colour[0];
          pixels[at + 1] = colour[1];
          pixels[at + 2] = colour[2];
          pixels[at + 3] = 255;
        }
      }
    });
  }

  /** An RGB image (`rgb`: w*h*3 bytes, row-major) placed at (x, y), each pixel blown up to scale x scale. */
  image(x: number, y: number, w: number, h: number, rgb: Uint8Array, scale: number): void {
    this.paints.push((pixels, width) => {
      for (let row = 0; row < h * scale; row++) {
        const source = Math.floor(row / scale) * w;
        for (let col = 0; col < w * scale; col++) {
          const from = 3 * (source + Math.floor(col / scale));
          const at = 4 * ((y + row) * width + x + col);
          pixels[at] = rgb[from]!;
          pixels[at + 1] = rgb[from + 1]!;
          pixels[at + 2] = rgb[from + 2]!;
          pixels[at + 3] = 255;
        }
      }
    });
  }

  toSvg(): string {
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}" ` +
        `font-family="${FONT_FAMILY}">`,
      `<rect width="${this.width}" height="${this.height}" fill="#ffffff"/>`,
      ...this.elements,
      '</svg>',
    ].join('\n');
  }

  toPng(): Buffer {
    const rendered = new Resvg(this.toSvg(), {
      background: '#ffffff',
      fitTo: { mode: 'original' },
      font: { loadSystemFonts: false, fontFiles: [...FONT_FILES], defaultFontFamily: FONT_FAMILY },
    }).render();
    if (rendered.width !== this.width || rendered.height !== this.height) {
      throw new Error(`resvg rendered ${rendered.width} x ${rendered.height} px, expected ${this.width} x ${this.height}`);
    }
    const pixels = Buffer.from(rendered.pixels);
    for (const paint of this.paints) paint(pixels, this.width);
    const png = new PNG({ width: this.width, height: this.height });
    png.data = pixels;
    return PNG.sync.write(png, { colorType: 2, inputColorType: 6, inputHasAlpha: true, deflateLevel: 6 });
  }
}

export function strokeAttributes(stroke: StrokeStyle): string {
  return [
    `stroke="${stroke.colour}"`,
    `stroke-width="${stroke.width}"`,
    stroke.dash !== undefined ? `stroke-dasharray="${stroke.dash}"` : '',
    stroke.opacity !== undefined && stroke.opacity !== 1 ? `stroke-opacity="${stroke.opacity}"` : '',
  ]
    .filter((a) => a !== '')
    .join(' ');
}
