/**
 * The views of one repair (repair.json): the slides' table, validation accuracy per iteration of every
 * strategy and of the control, per-label test accuracy before and after (regressions marked), and the
 * test confusion matrices before and after.
 */
import { strategyTitle } from '../../select/strategies.js';
import type { RepairDoc } from '../../experiment/repair-doc.js';
import { BEFORE_COLOUR, CONTROL_COLOUR, chartHtml, fitRange, seriesStyle, type ChartSeries } from './chart.js';
import { escapeHtml, fraction, htmlTable, labelName, percent, section, signedFraction, type Cell } from './html.js';

/**
 * A label whose test accuracy changed by more than this is marked as a regression (drop) or a gain:
 * one percentage point, about 10 test inputs of a 1000-input MNIST label, above seed-to-seed noise of
 * a single fine-tuning step on the demo.
 */
export const CHANGE_MARK = 0.01;

/** Series colours of the strategies (palette indices that stay clear of the control's vermillion). */
const ARM_PALETTE = [0, 2, 6, 8, 4, 7, 9];

type Arm = RepairDoc['arms'][number];

function armStyle(arms: readonly Arm[], arm: Arm): Pick<ChartSeries, 'colour' | 'point' | 'dash' | 'emphasis'> {
  if (arm.control) return { colour: CONTROL_COLOUR, point: 'rectRot', dash: true };
  const k = arms.filter((a) => !a.control).indexOf(arm);
  return { ...seriesStyle(ARM_PALETTE[k % ARM_PALETTE.length]!), point: seriesStyle(k).point, emphasis: k === 0 };
}

/** "mode:hc:least:cosine:importance:top" is long: the chart legends say "mode (hc, least, cosine, importance, top)". */
export function armTitle(name: string): string {
  return name === 'control' ? 'control (random)' : strategyTitle(name);
}

/** Test metrics after an arm's last iteration (the start when it stopped before its first). */
function finalTest(repair: RepairDoc, arm: Arm): RepairDoc['initial']['test'] {
  return arm.iterations.at(-1)?.test ?? repair.initial.test;
}

/** Indices of rows holding the highest finite value (all of them on a tie); none when fewer than two rows compete. */
function best(values: readonly (number | null)[]): Set<number> {
  const finite = values.map((v, i) => ({ v, i })).filter((x): x is { v: number; i: number } => x.v !== null && Number.isFinite(x.v));
  if (finite.length < 2) return new Set();
  const top = Math.max(...finite.map((x) => x.v));
  if (finite.every((x) => x.v === top)) return new Set();
  return new Set(finite.filter((x) => Math.abs(x.v - top) < 1e-12).map((x) => x.i));
}

function repairTable(repair: RepairDoc, id: string): string {
  const rows = repair.table;
  const names = repair.classNames;
  const target = rows[0]?.targetLabel ?? null;
  const contenders = rows.map((r) => (r.strategy === 'control' ? null : r));
  const columns: {
    head: string;
    title: string;
    value: (r: RepairDoc['table'][number]) => number | null;
    text: (v: number | null) => string;
    best: boolean;
  }[] = [
    {
      head: 'Initial Acc',
      title: 'test accuracy of the model before repair',
      value: (r) => r.initialAcc,
      text: (v) => fraction(v),
      best: false,
    },
    { head: 'Final Acc', title: 'test accuracy after the last iteration', value: (r) => r.finalAcc, text: (v) => fraction(v), best: true },
    {
      head: 'Control Acc',
      title: 'test accuracy of the random control after as many iterations',
      value: (r) => r.controlAcc,
      text: (v) => fraction(v),
      best: false,
    },
    { head: 'Diff I-F', title: 'Final - Initial', value: (r) => r.diffIF, text: (v) => signedFraction(v), best: true },
    { head: 'Diff F-C', title: 'Final - Control', value: (r) => r.diffFC, text: (v) => signedFraction(v), best: true },
  ];
  if (target !== null) {
    columns.push(
      {
        head: `label ${labelName(names, target)} before`,
        title: 'test accuracy of the first buggy label before repair',
        value: (r) => r.targetBefore,
        text: (v) => fraction(v),
        best: false,
      },
      {
        head: `label ${labelName(names, target)} after`,
        title: 'test accuracy of the first buggy label after repair',
        value: (r) => r.targetAfter,
        text: (v) => fraction(v),
        best: true,
      },
      {
        head: 'buggy before',
        title: 'mean test accuracy of the labels buggy at the start, before repair',
        value: (r) => r.buggyBefore,
        text: (v) => fraction(v),
        best: false,
      },
      {
        head: 'buggy after',
        title: 'mean test accuracy of the labels buggy at the start, after repair',
        value: (r) => r.buggyAfter,
        text: (v) => fraction(v),
        best: true,
      },
    );
  }
  const winners = columns.map((c) => (c.best ? best(contenders.map((r) => (r === null ? null : c.value(r)))) : new Set<number>()));
  const body: Cell[][] = rows.map((r, i) => [
    { text: armTitle(r.strategy), title: r.strategy },
    { text: String(r.iterations) },
    { text: r.finishedEarly ? '1' : '0', title: r.finishedEarly ? 'stopped early: no buggy label left' : 'ran every iteration' },
    ...columns.map((c, k): Cell => ({
      text: c.text(c.value(r)),
      ...(winners[k]!.has(i) ? { className: 'best', title: `best ${c.head} among the strategies` } : {}),
    })),
  ]);
  const table = htmlTable({
    id,
    head: [
      'strategy',
      { text: 'iterations', title: 'iterations run' },
      { text: 'Finished Early', title: '1: stopped early, no buggy label left' },
      ...columns.map((c) => ({ text: c.head, title: c.title })),
    ],
    rows: body,
    rowClasses: rows.map((r) => (r.strategy === 'control' ? 'control' : undefined)),
  });
  return (
    `${table}<p class="legend-note"><span class="swatch" style="background:#d7ecf7"></span>\u2605 best among the strategies (the ` +
    `control is not a contender). One seed: no confidence intervals or tests; \`mode experiment\` runs many seeds for those.</p>`
  );
}

function iterationSeries(
  repair: RepairDoc,
  pick: (m: RepairDoc['initial']['validation']) => number | null,
): { categories: string[]; series: ChartSeries[] } {
  const length = Math.max(repair.config.iterations, ...repair.arms.map((a) => a.iterations.length));
  const categories = ['start', ...Array.from({ length }, (_, i) => String(i + 1))];
  const series = repair.arms.map((arm): ChartSeries => {
    const values: (number | null)[] = [pick(repair.initial.validation), ...arm.iterations.map((it) => pick(it.validation))];
    while (values.length < categories.length) values.push(null);
    return { name: `${armTitle(arm.name)}${arm.finishedEarly ? ', stopped early' : ''}`, values, ...armStyle(repair.arms, arm) };
  });
  return { categories, series };
}

function repairCurves(repair: RepairDoc, idPrefix: string): string {
  const overall = iterationSeries(repair, (m) => m.accuracy);
  const charts = [
    chartHtml({
      id: `${idPrefix}-val-acc`,
      kind: 'line',
      title: 'Validation accuracy per iteration',
      xLabel: 'iteration (start = before repair)',
      yLabel: 'validation accuracy',
      categories: overall.categories,
      series: overall.series,
      yRange: fitRange(overall.series.flatMap((s) => s.values)),
      caption:
        `Each strategy selects ${repair.config.batch} pool inputs per iteration and retrains (${repair.config.retrain}); ` +
        `the control (dashed) selects as many at random. A line that stops early stopped when no buggy label was left.`,
    }),
  ];
  const bugs = repair.initial.bugs.map((b) => b.label);
  if (bugs.length > 0) {
    const mean = (m: RepairDoc['initial']['validation']): number | null => {
      const values = bugs.map((l) => m.perLabel[l] ?? null);
      return values.some((v) => v === null) ? null : values.reduce<number>((s, v) => s + v!, 0) / values.length;
    };
    const buggy = iterationSeries(repair, mean);
    charts.push(
      chartHtml({
        id: `${idPrefix}-val-buggy`,
        kind: 'line',
        title: `Validation accuracy of the buggy labels (${bugs.map((l) => labelName(repair.classNames, l)).join(', ')})`,
        xLabel: 'iteration (start = before repair)',
        yLabel: 'mean accuracy, buggy labels',
        categories: buggy.categories,
        series: buggy.series,
        yRange: fitRange(buggy.series.flatMap((s) => s.values)),
        caption: 'The labels buggy at the start (underfitting or overfitting), averaged: what the repair is for.',
      }),
    );
  }
  return `<div class="grid-2">${charts.join('\n')}</div>`;
}

function perLabelView(repair: RepairDoc, idPrefix: string): string {
  const names = repair.classNames;
  const bugs = new Set(repair.initial.bugs.map((b) => b.label));
  const before = repair.initial.test.perLabel;
  const labelText = (l: number): string => `${labelName(names, l)}${bugs.has(l) ? ' *' : ''}`;
  const series: ChartSeries[] = [
    { name: 'before repair', values: before.map((v) => v ?? null), colour: BEFORE_COLOUR },
    ...repair.arms.map((arm) => ({
      name: `after: ${armTitle(arm.name)}`,
      values: finalTest(repair, arm).perLabel.map((v) => v ?? null),
      colour: armStyle(repair.arms, arm).colour,
    })),
  ];
  const low = Math.min(...series.flatMap((s) => s.values).filter((v): v is number => v !== null));
  const chart = chartHtml(
    {
      id: `${idPrefix}-per-label`,
      kind: 'bar',
      title: 'Test accuracy per label, before and after repair',
      xLabel: 'label (* buggy at the start)',
      yLabel: 'test accuracy',
      categories: names.map((_, l) => labelText(l)),
      series,
      yRange: [Math.max(0, Math.floor(low * 10) / 10 - 0.1), 1],
      caption: "Grey: the model before repair; coloured: after each strategy's last iteration and after the random control.",
    },
    { height: 360 },
  );
  const head: Cell[] = [{ text: 'label' }, { text: 'before', title: 'test accuracy before repair' }];
  for (const arm of repair.arms)
    head.push(
      { text: `${armTitle(arm.name)}`, title: `test accuracy after ${arm.name}` },
      { text: '\u0394 pts', title: `change with ${arm.name}, in percentage points` },
    );
  const rows: Cell[][] = names.map((_, l) => {
    const row: Cell[] = [{ text: labelText(l) }, { text: percent(before[l] ?? null) }];
    for (const arm of repair.arms) {
      const after = finalTest(repair, arm).perLabel[l] ?? null;
      const delta = after === null || before[l] === null || before[l] === undefined ? null : after - before[l]!;
      const change = delta === null ? '' : delta < -CHANGE_MARK ? 'regress' : delta > CHANGE_MARK ? 'gain' : '';
      row.push(
        { text: percent(after) },
        {
          text:
            delta === null
              ? '-'
              : `${change === 'regress' ? '\u25BC ' : change === 'gain' ? '\u25B2 ' : ''}${signedFraction(delta * 100, 1)}`,
          ...(change === ''
            ? {}
            : {
                className: change,
                title:
                  change === 'regress'
                    ? `dropped by more than ${CHANGE_MARK * 100} points: a regression`
                    : `rose by more than ${CHANGE_MARK * 100} points`,
              }),
        },
      );
    }
    return row;
  });
  const table = htmlTable({ id: `${idPrefix}-per-label-table`, head, rows });
  const lost = repair.arms.map((arm) => ({
    arm: armTitle(arm.name),
    labels: names
      .map((_, l) => l)
      .filter((l) => {
        const after = finalTest(repair, arm).perLabel[l];
        const b = before[l];
        return after !== null && after !== undefined && b !== null && b !== undefined && after - b < -CHANGE_MARK;
      }),
  }));
  const summary = lost.every((x) => x.labels.length === 0)
    ? `No label lost more than ${CHANGE_MARK * 100} point of test accuracy.`
    : `Labels that lost more than ${CHANGE_MARK * 100} point of test accuracy: ` +
      `${lost.map((x) => `${escapeHtml(x.arm)}: ${x.labels.length === 0 ? 'none' : escapeHtml(x.labels.map((l) => labelName(names, l)).join(', '))}`).join('; ')}.`;
  return (
    `${chart}<p class="legend-note">${summary}<br><span class="swatch" style="background:#fbe0d0"></span>\u25BC regression ` +
    `<span class="swatch" style="background:#d9efe6"></span>\u25B2 gain (percentage points, test).</p>${table}`
  );
}

/** One confusion matrix as a table: diagonal shaded blue by recall, off-diagonal vermillion by the share of the row. */
function confusionTable(caption: string, names: readonly string[], confusion: readonly (readonly number[])[], id: string): string {
  const head =
    `<tr><th title="true label (rows) by predicted label (columns)">true \\ pred</th>` +
    `${names.map((_, l) => `<th>${escapeHtml(labelName(names, l))}</th>`).join('')}</tr>`;
  const body = confusion.map((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cells = row.map((count, p) => {
      const share = total === 0 ? 0 : count / total;
      const diag = t === p;
      const alpha = diag ? share : Math.min(1, share * 4);
      const background = count === 0 ? '' : diag ? `rgba(0,114,178,${alpha.toFixed(3)})` : `rgba(213,94,0,${alpha.toFixed(3)})`;
      const dark = alpha > 0.55;
      const style = background === '' ? '' : ` style="background:${background};${dark ? 'color:#fff' : ''}"`;
      return (
        `<td${diag ? ' class="diag"' : ''}${style} title="true ${escapeHtml(labelName(names, t))}, predicted ` +
        `${escapeHtml(labelName(names, p))}: ${count} of ${total} (${(100 * share).toFixed(1)}%)">${count}</td>`
      );
    });
    return `<tr><th>${escapeHtml(labelName(names, t))}</th>${cells.join('')}</tr>`;
  });
  return (
    `<table class="confusion" id="${escapeHtml(id)}"><caption>${escapeHtml(caption)}</caption><thead>${head}</thead>` +
    `<tbody>${body.join('\n')}</tbody></table>`
  );
}

function confusionView(repair: RepairDoc, idPrefix: string): string {
  const names = repair.classNames;
  const tables: string[] = [];
  const notes: string[] = [];
  if (repair.initial.test.confusion !== undefined)
    tables.push(confusionTable('Before repair (test)', names, repair.initial.test.confusion, `${idPrefix}-confusion-before`));
  repair.arms.forEach((arm, k) => {
    const last = arm.iterations.at(-1);
    const confusion = last === undefined ? repair.initial.test.confusion : last.test.confusion;
    if (confusion === undefined) notes.push(armTitle(arm.name));
    else tables.push(confusionTable(`After ${armTitle(arm.name)} (test)`, names, confusion, `${idPrefix}-confusion-after-${k}`));
  });
  const note =
    notes.length === 0
      ? ''
      : `<p class="note">This repair.json has no confusion matrix after ${escapeHtml(notes.join(', '))}: it was written by a mode that ` +
        `did not record them; run \`mode repair\` again to see them.</p>`;
  return (
    `<p class="legend-note">Rows: true label; columns: predicted label. Blue: correct (darker = higher recall); ` +
    `vermillion: mistakes (darker = a larger share of the row). Hover a cell for its share.</p>` +
    `<div class="matrices">${tables.join('\n')}</div>${note}`
  );
}

/** Every view of a repair, as sections. */
export function repairSections(repair: RepairDoc, idPrefix = 'repair'): { id: string; title: string; html: string }[] {
  const c = repair.config;
  const lead =
    `${escapeHtml(repair.dataset)}${repair.scenarios.length === 0 ? '' : `, ${escapeHtml(repair.scenarios.join('; '))}`}; ` +
    `${c.iterations} iterations \u00D7 batch ${c.batch}, alpha ${c.alpha}, ${escapeHtml(c.retrain)} retraining, ` +
    `layer selection ${escapeHtml(c.layerSelection)}, seed ${repair.seed}. Test accuracy; ` +
    `every decision used train and validation only.`;
  return [
    {
      id: `${idPrefix}-table`,
      title: 'Repair results',
      html: section(`${idPrefix}-table`, "Repair results (the slides' table)", lead, repairTable(repair, `${idPrefix}-results`)),
    },
    {
      id: `${idPrefix}-curves`,
      title: 'Accuracy per iteration',
      html: section(
        `${idPrefix}-curves`,
        'Validation accuracy per iteration',
        'Every strategy and the random control start from the same weights.',
        repairCurves(repair, idPrefix),
      ),
    },
    {
      id: `${idPrefix}-labels`,
      title: 'Per-label accuracy',
      html: section(`${idPrefix}-labels`, 'Per-label test accuracy before and after', '', perLabelView(repair, idPrefix)),
    },
    {
      id: `${idPrefix}-confusion`,
      title: 'Confusion matrices',
      html: section(`${idPrefix}-confusion`, 'Confusion matrices before and after', '', confusionView(repair, idPrefix)),
    },
  ];
}
