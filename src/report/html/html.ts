/** Small helpers for building HTML as strings: escaping, number formats, tables, PNG data URIs. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON for a <script type="application/json"> block: `<` escaped so no text can close the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)).replace(/</g, '\\u003c');
}

/** A fraction with fixed decimals, as the slides print accuracies (0.9436); '-' for a missing value. */
export const fraction = (v: number | null | undefined, digits = 4): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
/** A signed fraction (+0.0039, −0.0045) with a true minus sign. */
export const signedFraction = (v: number | null | undefined, digits = 4): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : `${v >= 0 ? '+' : '\u2212'}${Math.abs(v).toFixed(digits)}`;
/** A percentage (96.4%). */
export const percent = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : `${(100 * v).toFixed(digits)}%`;

export function pngDataUri(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** A table cell: text (escaped) with optional class and tooltip. */
export interface Cell {
  text: string;
  className?: string;
  title?: string;
  /** Raw HTML instead of text (callers escape what they put in it). */
  html?: string;
}

const cellHtml = (tag: 'td' | 'th', cell: Cell | string): string => {
  const c = typeof cell === 'string' ? { text: cell } : cell;
  const attributes = [
    c.className !== undefined ? ` class="${escapeHtml(c.className)}"` : '',
    c.title !== undefined ? ` title="${escapeHtml(c.title)}"` : '',
  ].join('');
  return `<${tag}${attributes}>${c.html ?? escapeHtml(c.text)}</${tag}>`;
};

/** A data table; the first column is a row header. */
export function htmlTable(options: {
  caption?: string;
  head: (Cell | string)[];
  rows: (Cell | string)[][];
  className?: string;
  id?: string;
  rowClasses?: readonly (string | undefined)[];
}): string {
  const { caption, head, rows } = options;
  return [
    `<div class="table-wrap">` +
      `<table${options.id !== undefined ? ` id="${escapeHtml(options.id)}"` : ''} class="${escapeHtml(options.className ?? 'data')}">`,
    caption !== undefined ? `<caption>${escapeHtml(caption)}</caption>` : '',
    `<thead><tr>${head.map((h) => cellHtml('th', h)).join('')}</tr></thead>`,
    `<tbody>${rows.map((r, k) => `<tr${options.rowClasses?.[k] === undefined ? '' : ` class="${escapeHtml(options.rowClasses[k]!)}"`}>${r.map((c, i) => (i === 0 ? cellHtml('th', c) : cellHtml('td', c))).join('')}</tr>`).join('\n')}</tbody>`,
    '</table></div>',
  ].join('\n');
}

/** A section with an id (for the contents), a heading and an optional lead paragraph. */
export function section(id: string, title: string, lead: string, body: string, level: 2 | 3 = 2): string {
  return (
    `<section id="${escapeHtml(id)}" class="level-${level}">` +
    `<h${level}>${escapeHtml(title)}</h${level}>${lead === '' ? '' : `<p class="lead">${lead}</p>`}\n${body}\n</section>`
  );
}

/** A label with its class name when that differs ("3", or "3 Dress"). */
export function labelName(classNames: readonly string[], label: number): string {
  const name = classNames[label];
  return name === undefined || name === String(label) ? String(label) : `${label} ${name}`;
}

/** One fact of a facts list (`<ul class="facts">`): a name and its value; long values span wider. */
export function fact(name: string, value: string): string {
  return `<li${value.length > 40 ? ' class="wide"' : ''}><b>${escapeHtml(name)}</b>${escapeHtml(value)}</li>`;
}
