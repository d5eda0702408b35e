#!/usr/bin/env node
// Condenses `mode results --format json` (read from stdin) into one markdown table: a row per strategy,
// a column per group (e.g. dataset x model x batch), each cell the mean final-minus-control difference in
// points with its Holm-corrected t-test p, then the same against the reference strategy.
// Usage: mode results --store S --measure buggy --format json | node bench/summary-table.mjs
import { readFileSync } from 'node:fs';

const fail = (message) => {
  console.error(`summary-table: ${message}`);
  process.exit(1);
};
let results;
try {
  results = JSON.parse(readFileSync(0, 'utf8'));
} catch (error) {
  fail(`standard input is not JSON (${String(error.message).replace(/\s+/g, " ")}); pipe in \`mode results --format json\``);
}
const points = (x) => `${x >= 0 ? '+' : '-'}${Math.abs(100 * x).toFixed(1)}`;
const p = (x) => (x < 0.001 ? '<0.001' : x < 0.1 ? x.toFixed(3) : x >= 0.995 ? '1.0' : x.toFixed(2));
const tables = results.tables ?? [];
if (tables.length === 0) fail('the results hold no table; pipe in `mode results --format json`');
const columns = tables.map((t) => Object.entries(t.group ?? {}).map(([k, v]) => (k === 'batch' ? `B=${v}` : v)).join(' ') || 'all cells');
const seedCounts = tables.map((t) => Math.min(...t.rows.map((r) => r.seeds.length)));
const strategies = [...new Set(tables.flatMap((t) => t.rows.map((r) => Object.values(r.by).join(' '))))];
const cell = (row) => {
  if (row === undefined) return '–';
  const c = row.vsControl?.comparison;
  let text = c ? `${points(c.meanDifference)} (${p(row.vsControl.tTestHolm)})` : '–';
  const r = row.vsReference?.comparison;
  if (r) text += `; vs ref ${points(r.meanDifference)} (${p(row.vsReference.tTestHolm)})`;
  return text;
};
console.log(`Final minus control in points of ${results.measure === 'buggy' ? 'buggy-label recall' : 'test accuracy'} (Holm-corrected paired t-test p), and minus the reference strategy ("vs ref").\n`);
console.log(`| strategy | ${columns.map((c, i) => `${c} (${seedCounts[i]} seeds)`).join(' | ')} |`);
console.log(`| --- | ${columns.map(() => '---').join(' | ')} |`);
for (const s of strategies) {
  console.log(`| ${s.replace(/:cosine:importance:top$/, '')} | ${tables.map((t) => cell(t.rows.find((r) => Object.values(r.by).join(' ') === s))).join(' | ')} |`);
}
console.log(`\nInitial / control (mean over seeds): ${tables.map((t, i) => `${columns[i]} ${t.rows[0].initial.mean.toFixed(3)} / ${t.rows[0].control.mean.toFixed(3)}`).join('; ')}.`);
