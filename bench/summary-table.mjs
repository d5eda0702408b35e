#!/usr/bin/env node
// Condenses `mode results --format json` (read from stdin) into one markdown table: a row per strategy,
// a column per group (e.g. dataset x model x batch), each cell the mean final-minus-control difference in
// points with its Holm-corrected t-test p, then the same against the reference strategy.
// --transpose: a row per group (with its initial and control means) and a column per strategy, for
// grids with many groups and few strategies (the ratio preset). There the p-values are Holm-corrected
// down each column (one strategy's comparisons across all groups), not within each group's table.
// Usage: mode results --store S --measure buggy --format json | node bench/summary-table.mjs [--transpose]
import { readFileSync } from 'node:fs';
import { holm } from '../dist/src/experiment/statistics.js';

const fail = (message) => {
  console.error(`summary-table: ${message}`);
  process.exit(1);
};
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--transpose');
if (unknown.length > 0) fail(`unknown argument '${unknown[0]}'; the only option is --transpose`);
const transpose = args.includes('--transpose');
let results;
try {
  results = JSON.parse(readFileSync(0, 'utf8'));
} catch (error) {
  fail(`standard input is not JSON (${String(error.message).replace(/\s+/g, ' ')}); pipe in \`mode results --format json\``);
}
const points = (x) => `${x >= 0 ? '+' : '-'}${Math.abs(100 * x).toFixed(1)}`;
const p = (x) => (x < 0.001 ? '<0.001' : x < 0.1 ? x.toFixed(3) : x >= 0.995 ? '1.0' : x.toFixed(2));
const tables = results.tables ?? [];
if (tables.length === 0) fail('the results hold no table; pipe in `mode results --format json`');
const GROUP_LABELS = { batch: (v) => `B=${v}`, alpha: (v) => `alpha ${v}`, classSubset: (v) => `classes ${v}` };
const columns = tables.map(
  (t) =>
    Object.entries(t.group ?? {})
      .map(([k, v]) => (GROUP_LABELS[k] ?? String)(v))
      .join(' ') || 'all cells',
);
const seedCounts = tables.map((t) => Math.min(...t.rows.map((r) => r.seeds.length)));
const strategies = [...new Set(tables.flatMap((t) => t.rows.map((r) => Object.values(r.by).join(' '))))];
// A row's differences with their Holm p: by default the correction within its group's table.
const cell = (row, controlHolm = row?.vsControl?.tTestHolm, referenceHolm = row?.vsReference?.tTestHolm) => {
  if (row === undefined) return '–';
  const c = row.vsControl?.comparison;
  let text = c ? `${points(c.meanDifference)} (${p(controlHolm)})` : '–';
  const r = row.vsReference?.comparison;
  if (r) text += `; vs ref ${points(r.meanDifference)} (${p(referenceHolm)})`;
  return text;
};
console.log(
  `Final minus control in points of ${results.measure === 'buggy' ? 'buggy-label recall' : 'test accuracy'} (paired t-test p, Holm-corrected ${transpose ? 'down each column' : 'within each group'}), and minus the reference strategy ("vs ref").\n`,
);
const label = (s) => s.replace(/:cosine:importance:top$/, '');
const rowOf = (t, s) => t.rows.find((r) => Object.values(r.by).join(' ') === s);
if (transpose) {
  // Holm down a column: one strategy's comparisons (with the control, or with the reference) across all groups.
  const holmDown = (s, which) => {
    const raw = tables.map((t) => rowOf(t, s)?.[which]?.comparison?.tTestP);
    const tested = raw.flatMap((q, i) => (Number.isFinite(q) ? [i] : []));
    const corrected = holm(tested.map((i) => raw[i]));
    const out = tables.map(() => NaN);
    tested.forEach((i, k) => {
      out[i] = corrected[k];
    });
    return out;
  };
  const columnHolm = strategies.map((s) => ({ control: holmDown(s, 'vsControl'), reference: holmDown(s, 'vsReference') }));
  console.log(`| group | seeds | initial | control | ${strategies.map(label).join(' | ')} |`);
  console.log(`| --- | --- | --- | --- | ${strategies.map(() => '---').join(' | ')} |`);
  tables.forEach((t, i) => {
    console.log(
      `| ${columns[i]} | ${seedCounts[i]} | ${t.rows[0].initial.mean.toFixed(3)} | ${t.rows[0].control.mean.toFixed(3)} | ${strategies.map((s, j) => cell(rowOf(t, s), columnHolm[j].control[i], columnHolm[j].reference[i])).join(' | ')} |`,
    );
  });
} else {
  console.log(`| strategy | ${columns.map((c, i) => `${c} (${seedCounts[i]} seeds)`).join(' | ')} |`);
  console.log(`| --- | ${columns.map(() => '---').join(' | ')} |`);
  for (const s of strategies) console.log(`| ${label(s)} | ${tables.map((t) => cell(rowOf(t, s))).join(' | ')} |`);
  console.log(
    `\nInitial / control (mean over seeds): ${tables.map((t, i) => `${columns[i]} ${t.rows[0].initial.mean.toFixed(3)} / ${t.rows[0].control.mean.toFixed(3)}`).join('; ')}.`,
  );
}
