/** A titled grid of small input images, each upscaled by a whole factor, each with a caption. */
import { shapeError, usageError } from '../../core/errors.js';
import { NAN_GREY } from './colour.js';
import { Figure } from './figure.js';
import { fitText, textWidth } from './font.js';
import { MARGIN } from './heatmap.js';

export interface GalleryImage {
  /** [h, w, c] values in [0, 1], channels last; c = 1 (grey) or 3 (RGB). */
  values: Float32Array;
  shape: readonly [number, number, number];
  caption: string;
}

export interface GalleryOptions {
  /** Images per row; default min(count, DEFAULT_COLUMNS). */
  columns?: number;
  /** Whole upscaling factor; default: the largest that keeps an image's longer side <= TARGET_IMAGE_SIDE (at least 1). */
  scale?: number;
}

const DEFAULT_COLUMNS = 6;
/** Default upscaled image side: 28 px MNIST digits come out 3x, 84 px. */
const TARGET_IMAGE_SIDE = 96;
const MAX_SCALE = 64;
const TITLE_SIZE = 17;
const CAPTION_SIZE = 13;
const CELL_PAD = 16;
const MAX_CAPTION_WIDTH = 180;
const FRAME: readonly [number, number, number] = [200, 200, 200];

function checkGallery(title: string, images: readonly GalleryImage[], options: GalleryOptions): void {
  const where = 'renderGallery';
  if (typeof title !== 'string') throw usageError(`${where}: title must be a string, got ${typeof title}`);
  if (!Array.isArray(images)) throw usageError(`${where}: images must be an array`);
  images.forEach((image, i) => {
    const [h, w, c] = image.shape;
    if (image.shape.length !== 3 || ![h, w].every((d) => Number.isInteger(d) && d! > 0) || (c !== 1 && c !== 3)) {
      throw shapeError(`${where}: image ${i} has shape [${String(image.shape)}]: expected [h, w, c] with c = 1 (grey) or 3 (RGB)`);
    }
    if (image.values.length !== h! * w! * c)
      throw shapeError(`${where}: image ${i} has ${image.values.length} values for shape [${h}, ${w}, ${c}] (${h! * w! * c} expected)`);
  });
  if (options.columns !== undefined && !(Number.isInteger(options.columns) && options.columns >= 1))
    throw usageError(`${where}: columns ${options.columns} is not a whole number >= 1`);
  if (options.scale !== undefined && !(Number.isInteger(options.scale) && options.scale >= 1 && options.scale <= MAX_SCALE)) {
    throw usageError(`${where}: scale ${options.scale} is out of range: expected a whole upscaling factor in [1, ${MAX_SCALE}]`);
  }
}

/** [0, 1] to a byte; NaN to NAN_GREY's level, out-of-range values clamped. */
const toByte = (v: number): number => (Number.isNaN(v) ? NAN_GREY[0] : Math.round(255 * Math.max(0, Math.min(1, v))));

function toRgb(image: GalleryImage): Uint8Array {
  const [h, w, c] = image.shape;
  const rgb = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) rgb[3 * p + k] = toByte(image.values[c === 1 ? p : 3 * p + k]!);
  }
  return rgb;
}

/**
 * A gallery: a titled grid of small input images (e.g. the pool inputs a metric picked), each with a
 * caption (e.g. "0.93 ✓"), upscaled by a whole factor with square pixels.
 */
export function renderGallery(title: string, images: GalleryImage[], options: GalleryOptions = {}): Buffer {
  checkGallery(title, images, options);
  const maxSide = Math.max(1, ...images.map((im) => Math.max(im.shape[0], im.shape[1])));
  const scale = options.scale ?? Math.max(1, Math.floor(TARGET_IMAGE_SIDE / maxSide));
  const columns = Math.max(1, Math.min(images.length, options.columns ?? DEFAULT_COLUMNS));
  const rows = Math.ceil(images.length / columns);
  const captions = images.map((im) => fitText(String(im.caption), MAX_CAPTION_WIDTH, CAPTION_SIZE));
  const imageWidth = Math.max(0, ...images.map((im) => im.shape[1] * scale));
  const imageHeight = Math.max(0, ...images.map((im) => im.shape[0] * scale));
  const captionWidth = Math.ceil(Math.max(0, ...captions.map((c) => textWidth(c, CAPTION_SIZE))));
  const cellWidth = Math.max(imageWidth + 2, captionWidth) + CELL_PAD;
  const cellHeight = imageHeight + 2 + 6 + CAPTION_SIZE + CELL_PAD;
  const top = MARGIN + Math.round(TITLE_SIZE * 1.7);
  const empty = images.length === 0;
  const width = Math.ceil(Math.max(columns * cellWidth, textWidth(title, TITLE_SIZE, 'bold'), empty ? 160 : 0)) + 2 * MARGIN;
  const height = top + (empty ? 24 : rows * cellHeight) + MARGIN;

  const figure = new Figure(width, height);
  figure.text(MARGIN, MARGIN + TITLE_SIZE, title, { size: TITLE_SIZE, weight: 'bold', colour: '#111111' });
  if (empty) figure.text(MARGIN, top + CAPTION_SIZE, '(no images)', { size: CAPTION_SIZE, colour: '#666666' });
  const left = MARGIN + Math.floor((width - 2 * MARGIN - columns * cellWidth) / 2);
  images.forEach((image, i) => {
    const cellX = left + (i % columns) * cellWidth;
    const cellY = top + Math.floor(i / columns) * cellHeight;
    const [h, w] = image.shape;
    const x = cellX + Math.floor((cellWidth - w * scale) / 2);
    const y = cellY + Math.floor((imageHeight - h * scale) / 2) + 1;
    figure.fillRect(x - 1, y - 1, w * scale + 2, h * scale + 2, FRAME);
    figure.image(x, y, w, h, toRgb(image), scale);
    figure.text(cellX + cellWidth / 2, cellY + imageHeight + 2 + 6 + CAPTION_SIZE - 2, captions[i]!, {
      size: CAPTION_SIZE,
      anchor: 'middle',
      colour: '#222222',
    });
  });
  return figure.toPng();
}
