/** Plain-text tables for the terminal. Pure functions: strings in, string out. */

export function table(header: string[], rows: string[][], align: ('left' | 'right')[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => ((align[i] ?? (i === 0 ? 'left' : 'right')) === 'left' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

export const pct = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || Number.isNaN(v) ? '-' : `${(v * 100).toFixed(digits)}`;
const num = (v: number | null | undefined, digits = 4): string =>
  v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);

/** Per-label accuracy (%) of several sets side by side; `mark` labels get a '*'. */
export function perLabelTable(
  classNames: readonly string[],
  columns: { name: string; perLabel: readonly number[]; support?: readonly number[] }[],
  mark: ReadonlySet<number> = new Set(),
): string {
  const header = ['label', ...columns.map((c) => `${c.name} acc %`)];
  const rows = classNames.map((name, l) => [
    `${mark.has(l) ? '*' : ' '}${l} ${name === String(l) ? '' : name}`.trimEnd(),
    ...columns.map((c) => pct(c.perLabel[l])),
  ]);
  return table(header, rows);
}

export function confusionTable(classNames: readonly string[], confusion: readonly (readonly number[])[]): string {
  const header = ['true \\ pred', ...classNames.map((_, i) => String(i))];
  const rows = confusion.map((row, l) => [
    `${l} ${classNames[l] === String(l) ? '' : (classNames[l] ?? '')}`.trimEnd(),
    ...row.map(String),
  ]);
  return table(header, rows);
}

/**
 * Validation accuracy (%) per probe (rows) and label (columns); buggy labels' headers get a '*', and
 * each buggy label's target probe is marked with '<'.
 */
export function probeTable(
  probes: readonly { name: string; size: number; perLabel: readonly number[] }[],
  model: readonly number[],
  buggy: ReadonlySet<number>,
  targets: ReadonlyMap<number, number>,
): string {
  const labels = model.map((_, l) => l);
  const header = ['probe', 'features', ...labels.map((l) => `${buggy.has(l) ? '*' : ''}${l}`)];
  const rows = probes.map((p, k) => [
    p.name,
    String(p.size),
    ...labels.map((l) => `${pct(p.perLabel[l])}${targets.get(l) === k ? '<' : ' '}`),
  ]);
  rows.push(['model', '', ...labels.map((l) => `${pct(model[l])} `)]);
  return table(header, rows);
}

export interface SlidesRow {
  strategy: string;
  initialAcc: number;
  finalAcc: number;
  controlAcc: number;
  finishedEarly: boolean;
  diffIF: number;
  diffFC: number;
  targetLabel: number | null;
  targetBefore: number | null;
  targetAfter: number | null;
  buggyBefore: number | null;
  buggyAfter: number | null;
  iterations: number;
}

/** The columns of the replication slides' table, in its order (every renderer of it uses these). */
export const SLIDES_COLUMNS = ['Initial Acc', 'Final Acc', 'Control Acc', 'Finished Early', 'Diff I-F', 'Diff F-C'] as const;

/** The replication slides' table (test accuracy), with target-label and buggy-label columns. */
export function slidesTable(rows: readonly SlidesRow[], seconds: readonly (number | null)[] = []): string {
  const target = rows[0]?.targetLabel ?? null;
  const header = [
    'strategy',
    ...SLIDES_COLUMNS,
    'iters',
    ...(target === null ? [] : [`label ${target} before`, `label ${target} after`, 'buggy before', 'buggy after']),
    ...(seconds.length > 0 ? ['time s'] : []),
  ];
  const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
  const body = rows.map((r, i) => [
    r.strategy,
    num(r.initialAcc),
    num(r.finalAcc),
    num(r.controlAcc),
    r.finishedEarly ? '1' : '0',
    signed(r.diffIF),
    signed(r.diffFC),
    String(r.iterations),
    ...(target === null ? [] : [num(r.targetBefore), num(r.targetAfter), num(r.buggyBefore), num(r.buggyAfter)]),
    ...(seconds.length > 0 ? [seconds[i] === null || seconds[i] === undefined ? '-' : seconds[i]!.toFixed(1)] : []),
  ]);
  return table(header, body);
}

/** "Shirt 12, Coat 3": the classes with a count above 0, in label order. */
export function countsByClass(classNames: readonly string[], counts: readonly number[]): string {
  return counts
    .map((n, l) => [classNames[l]!, n] as const)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
}
