/**
 * The page shell: head (strict content security policy: nothing is loaded from anywhere, images are
 * data URIs), the title block, the table of contents, the sections, Chart.js inlined, the chart boot
 * script, and for `mode serve` the live-update script.
 */
import { CHART_BOOT_SCRIPT } from './chart.js';
import { escapeHtml, scriptJson } from './html.js';

export interface PageOptions {
  title: string;
  /** One line under the title (escaped HTML allowed: callers escape). */
  subtitle: string;
  contents: { id: string; title: string }[];
  body: string;
  chartLibrary: { source: string; version: string };
  /** `mode serve`: poll this URL and reload when its `version` differs from this one. */
  live?: { stateUrl: string; version: string; intervalMs: number };
}

/** No network at all: only inline scripts and styles, data: images, and (live pages) the server itself. */
const CSP =
  "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'";

const STYLE =
  `
:root { --ink: #1b1b1b; --muted: #555; --line: #d6d6d6; --soft: #f5f6f7; --accent: #0072B2; --best: #d7ecf7; ` +
  `--bad: #fbe0d0; --good: #d9efe6; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; font-family: system-ui, "Segoe UI", Roboto, "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink); ` +
  `background: #fff; line-height: 1.45; }
header.top { background: #12304a; color: #fff; padding: 18px 28px 14px; }
header.top h1 { margin: 0 0 4px; font-size: 1.6rem; font-weight: 650; }
header.top p { margin: 0; color: #d7e3ee; font-size: 0.95rem; }
header.top code { background: rgba(255,255,255,0.14); color: #fff; }
header.top .live { display: inline-block; margin-left: 10px; padding: 1px 8px; border-radius: 10px; background: #2c7a4b; ` +
  `color: #fff; font-size: 0.8rem; }
nav.contents { position: sticky; top: 0; z-index: 5; background: #fff; border-bottom: 1px solid var(--line); ` +
  `padding: 8px 28px; font-size: 0.92rem; }
nav.contents a { color: var(--accent); text-decoration: none; margin-right: 18px; white-space: nowrap; }
nav.contents a:hover { text-decoration: underline; }
main { max-width: 1320px; margin: 0 auto; padding: 8px 28px 48px; }
section.level-2 { border-top: 2px solid #12304a; margin-top: 30px; padding-top: 6px; }
section.level-3 { margin-top: 22px; }
h2 { font-size: 1.35rem; margin: 8px 0 6px; }
h3 { font-size: 1.12rem; margin: 8px 0 6px; }
p.lead { margin: 4px 0 12px; color: var(--muted); max-width: 75em; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 8px 18px; margin: 10px 0 4px; ` +
  `padding: 0; list-style: none; }
.facts li { background: var(--soft); border-left: 3px solid var(--accent); padding: 6px 10px; overflow-wrap: anywhere; }
.facts li.wide { grid-column: span 2; }
.facts b { display: block; font-size: 0.8rem; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: 0.03em; }
.table-wrap { overflow-x: auto; margin: 8px 0 12px; }
table.data { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.92rem; }
table.data caption { text-align: left; font-weight: 600; padding: 4px 0 6px; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 5px 10px; text-align: right; white-space: nowrap; }
table.data thead th { background: var(--soft); border-bottom: 2px solid #9aa5b1; vertical-align: bottom; ` +
  `white-space: normal; max-width: 11em; }
table.data tbody th { text-align: left; font-weight: 600; white-space: normal; max-width: 18em; }
table.data thead th:first-child { text-align: left; }
table.data .ci { display: block; font-size: 0.8em; color: var(--muted); font-weight: 400; }
table.data.compact th, table.data.compact td { padding: 2px 8px; font-size: 0.85rem; }
td.best { background: var(--best); font-weight: 700; }
td.best::after { content: " \\2605"; color: #0a5a8c; font-size: 0.8em; }
td.signif { font-weight: 700; }
td.regress { background: var(--bad); color: #7a2a00; font-weight: 700; }
td.gain { background: var(--good); color: #0b5a3a; }
tr.control th, tr.control td { color: #444; font-style: italic; }
.legend-note { font-size: 0.85rem; color: var(--muted); margin: -4px 0 12px; }
.legend-note .swatch { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; ` +
  `border: 1px solid #999; margin: 0 4px 0 10px; }
figure.chart { margin: 12px 0 18px; }
.chart-box { position: relative; width: 100%; max-width: 1100px; }
figure figcaption { font-size: 0.88rem; color: var(--muted); margin-top: 4px; max-width: 75em; }
details.chart-data summary { font-size: 0.82rem; color: var(--accent); cursor: pointer; margin-top: 2px; }
.grid-2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 8px 28px; align-items: start; }
figure.picture { margin: 10px 0 16px; }
figure.picture img { max-width: 100%; height: auto; border: 1px solid var(--line); image-rendering: pixelated; }
.matrices { display: flex; flex-wrap: wrap; gap: 10px 28px; align-items: flex-start; }
table.confusion { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.8rem; }
table.confusion caption { text-align: left; font-weight: 600; padding-bottom: 4px; font-size: 0.92rem; }
table.confusion th, table.confusion td { border: 1px solid #e2e2e2; padding: 2px 5px; text-align: right; min-width: 2.6em; }
table.confusion thead th, table.confusion tbody th { background: var(--soft); font-weight: 600; }
table.confusion td.diag { font-weight: 700; }
.gallery-grid { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 24px; }
.gallery-grid h4 { margin: 6px 0 0; font-size: 1rem; }
.gallery-grid figure { margin: 4px 0 10px; }
.gallery-grid img { max-width: 100%; height: auto; border: 1px solid var(--line); image-rendering: pixelated; }
.reference { display: flex; gap: 16px; align-items: center; margin: 6px 0 10px; }
.reference img { border: 1px solid var(--line); image-rendering: pixelated; }
.note { background: #fff7e0; border-left: 4px solid #E69F00; padding: 8px 12px; margin: 10px 0; max-width: 75em; }
code { background: var(--soft); padding: 0 4px; border-radius: 3px; font-size: 0.92em; }
footer { color: var(--muted); font-size: 0.82rem; margin-top: 40px; border-top: 1px solid var(--line); padding-top: 8px; }
`;

function liveScript(live: NonNullable<PageOptions['live']>): string {
  return `
(function () {
  'use strict';
  var live = ${scriptJson(live)};
  var badge = document.getElementById('live-badge');
  function poll() {
    fetch(live.stateUrl, { cache: 'no-store' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (state) {
      if (state && state.version !== live.version) { location.reload(); return; }
      if (badge) { badge.textContent = 'live: checked ' + new Date().toLocaleTimeString(); }
      setTimeout(poll, live.intervalMs);
    }, function () {
      if (badge) { badge.textContent = 'live: server not reachable'; }
      setTimeout(poll, live.intervalMs);
    });
  }
  setTimeout(poll, live.intervalMs);
})();
`;
}

export function renderPage(options: PageOptions): string {
  const { title, subtitle, contents, body, chartLibrary, live } = options;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<header class="top"><h1>${escapeHtml(title)}${live === undefined ? '' : '<span class="live" id="live-badge">live</span>'}</h1>` +
      `<p>${subtitle}</p></header>`,
    `<nav class="contents" ` +
      `aria-label="Contents">${contents.map((c) => `<a href="#${escapeHtml(c.id)}">${escapeHtml(c.title)}</a>`).join('')}</nav>`,
    '<main>',
    body,
    `<footer>Made by <code>mode report</code>. Charts: Chart.js ${escapeHtml(chartLibrary.version)} (MIT), inlined; ` +
      `pictures are PNG data URIs; the page loads nothing from the network.</footer>`,
    '</main>',
    `<script>${chartLibrary.source}</script>`,
    `<script>${CHART_BOOT_SCRIPT}</script>`,
    live === undefined ? '' : `<script>${liveScript(live)}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
