/**
 * Test harness: opens a page in headless Chromium (the Debian package at /usr/bin/chromium, driven by
 * playwright-core, which never downloads a browser) and reports what a user would see go wrong: console
 * errors, failed requests, images that did not decode. Used by the report's end-to-end tests and to
 * take screenshots of reports.
 */
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.MODE_CHROMIUM ?? '/usr/bin/chromium';
/** No GPU, no sandbox (root in CI), nothing fetched in the background. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const chromiumAvailable = (): boolean => existsSync(CHROMIUM);

export interface PageCheck {
  /** Console messages of type error, page errors (uncaught exceptions) and failed requests. */
  errors: string[];
  images: { alt: string; naturalWidth: number; naturalHeight: number }[];
  /** Text of every table cell, by table id (tables without an id are left out). */
  tables: Record<string, string[][]>;
  /** Canvases (charts) with their drawn size. */
  canvases: { id: string; width: number; height: number; drawn: boolean }[];
  /** Requests to anything but the page's own origin (file:// or the server), which a self-contained page never makes. */
  foreignRequests: string[];
  title: string;
}

/** Runs in the page (a string: this project compiles without the DOM's types). */
const IN_PAGE_CHECK =
  `(() => {
  const images = Array.from(document.images, (img) => ({ alt: img.alt, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight }));
  const tables = {};
  document.querySelectorAll('table[id]').forEach((table) => {
    tables[table.id] = Array.from(table.querySelectorAll('tr'), (tr) => Array.from(tr.querySelectorAll('th, td'), ` +
  `(cell) => (cell.textContent || '').trim()));
  });
  const canvases = Array.from(document.querySelectorAll('canvas'), (canvas) => {
    const context = canvas.getContext('2d');
    let drawn = false;
    if (context !== null && canvas.width > 0 && canvas.height > 0) {
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) { drawn = true; break; }
    }
    return { id: canvas.id, width: canvas.width, height: canvas.height, drawn };
  });
  return { images, tables, canvases, title: document.title };
})()`;

/** Opens `url` at a laptop's viewport, waits for it to load, checks it, and optionally saves a full-page screenshot. */
export async function checkPage(
  url: string,
  options: { screenshot?: string; viewport?: { width: number; height: number } } = {},
): Promise<PageCheck> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage({ viewport: options.viewport ?? { width: 1440, height: 900 } });
    const errors: string[] = [];
    const foreignRequests: string[] = [];
    const origin = new URL(url).origin;
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()} (${request.failure()?.errorText ?? '?'})`));
    page.on('request', (request) => {
      const target = request.url();
      if (target.startsWith('data:')) return;
      if (url.startsWith('file:') ? target !== url : new URL(target).origin !== origin) foreignRequests.push(target);
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction('Array.from(document.images).every((img) => img.complete)');
    const result = (await page.evaluate(IN_PAGE_CHECK)) as Pick<PageCheck, 'images' | 'tables' | 'canvases' | 'title'>;
    if (options.screenshot !== undefined) await page.screenshot({ path: options.screenshot, fullPage: true });
    return { errors, foreignRequests, ...result };
  } finally {
    await browser.close();
  }
}
