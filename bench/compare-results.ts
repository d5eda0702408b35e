/**
 * Did a change that alters the numbers keep a study's conclusions? Compares two `mode results
 * --format json` outputs of the same slice (old code, new code) row by row, the test: each
 * strategy's difference to the control inside the old 95% CI, and the same rows significant after
 * Holm (paired t, 0.05), against the control and against the reference row (targeted-random).
 *
 *   node dist/bench/compare-results.js OLD.json NEW.json [--title TEXT]
 *
 * The two files may come from different versions of mode (a store is read by the version that wrote
 * it), so this reads their JSON, not the stores.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ExperimentResults, ResultsRow } from '../src/index.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { title: { type: 'string' } } });
if (positionals.length !== 2) {
  console.error('usage: node dist/bench/compare-results.js OLD.json NEW.json [--title TEXT]');
  process.exit(2);
}
/** `mode results --format json`: the results, with the store they came from. */
type ResultsJson = ExperimentResults & { readonly store: string };
const read = (file: string): ResultsJson => JSON.parse(readFileSync(file, 'utf8')) as ResultsJson;
const [oldDoc, newDoc] = [read(positionals[0]!), read(positionals[1]!)];

const ALPHA = 0.05;
type Test = ResultsRow['vsControl'];
const name = (row: ResultsRow): string => Object.values(row.by).join(' ');
const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
const p = (v: number): string => (v < 0.001 ? '<0.001' : v.toFixed(3));

/** One comparison (vs the control or vs the reference) of a row under the old and the new code. */
function cells(before: Test | null, after: Test | null): { text: string[]; inside: boolean; same: boolean } {
  if (before === null || after === null) return { text: ['-', '-', '-', '-', '-'], inside: true, same: true };
  const [b, a] = [before.comparison, after.comparison];
  const inside = Math.abs(a.meanDifference - b.meanDifference) <= b.ci95;
  const same = before.tTestHolm < ALPHA === after.tTestHolm < ALPHA;
  return {
    text: [
      `${signed(b.meanDifference)} ± ${b.ci95.toFixed(4)}`,
      p(before.tTestHolm),
      signed(a.meanDifference),
      p(after.tTestHolm),
      inside ? 'yes' : '**no**',
    ],
    inside,
    same,
  };
}

const lines: string[] = [];
if (values.title !== undefined) lines.push(`## ${values.title}`, '');
lines.push(
  `Old: ${oldDoc.store} (${oldDoc.cells} cells, seeds ${oldDoc.seeds.join(', ')}). New: ${newDoc.store} (${newDoc.cells} cells). ` +
    `Measure: ${newDoc.measure}; p: paired t, Holm-corrected across each table's rows.`,
  '',
  '| strategy | vs control: old F-C (95% CI) | old Holm p | new F-C | new Holm p | inside the old CI | vs reference: old (95% CI) | old Holm p | new | new Holm p | inside the old CI |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
);
const changed: string[] = [];
let outside = 0;
newDoc.tables.forEach((table, t) => {
  for (const row of table.rows) {
    const old = oldDoc.tables[t]?.rows.find((r) => name(r) === name(row));
    if (old === undefined) throw new Error(`row '${name(row)}' is not in ${positionals[0]}`);
    const control = cells(old.vsControl, row.vsControl);
    const reference = cells(old.vsReference, row.vsReference);
    lines.push(`| ${name(row)} | ${[...control.text, ...reference.text].join(' | ')} |`);
    outside += (control.inside ? 0 : 1) + (reference.inside ? 0 : 1);
    if (!control.same) changed.push(`${name(row)} vs control`);
    if (!reference.same) changed.push(`${name(row)} vs reference`);
  }
});
lines.push(
  '',
  `Differences outside the old CI: ${outside}. Rows whose significance (Holm p < ${ALPHA}) changed: ${changed.length === 0 ? 'none' : changed.join(', ')}.`,
);
console.log(lines.join('\n'));
