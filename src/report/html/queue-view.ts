/**
 * The labeling queue of `mode select`: what the analysis of the labeled data found (buggy labels and
 * the layer each starts at), the contact sheet of the head of the queue, and its first rows.
 */
import type { QueueDoc } from '../../experiment/select-doc.js';
import { strategyTitle } from '../../select/strategies.js';
import { escapeHtml, fact, fraction, htmlTable, percent, pngDataUri, section } from './html.js';

/** Queue rows shown as a table; the rest are in queue.csv. */
const ROWS_SHOWN = 30;

export function queueSections(doc: QueueDoc, sheet: Buffer | null): { id: string; title: string; html: string }[] {
  const a = doc.analysis;
  const facts = [
    ['strategy', strategyTitle(doc.strategy)],
    ['queued', `${doc.rows.length} of ${a.sizes.pool} pool inputs (${doc.pool})`],
    ['labeled data', `${a.sizes.train} train, ${a.sizes.validation} validation (${doc.data})`],
    [
      'buggy labels',
      a.bugs.length === 0
        ? 'none found'
        : a.bugs.map((b) => `${b.label} (${b.kind}${b.layer === null ? '' : `, starts at ${b.layer}`})`).join('; '),
    ],
    ...(a.target === null ? [] : [['targeted share serves', `${a.target.label}: ${a.target.why}`]]),
    [
      'pool labels',
      doc.poolLabels === 'predicted'
        ? `unknown: strategies that read them read the model's predictions (the inputs most likely to be ${a.target?.label ?? 'the target'} count as it)`
        : "the pool's own labels (a study)",
    ],
  ];
  const factList = `<ul class="facts">${facts.map(([k, v]) => fact(k!, v!)).join('')}</ul>`;
  const perLabel = htmlTable({
    caption: 'Accuracy per label on the labeled data',
    head: ['label', 'train', 'validation'],
    rows: doc.classNames.map((name, l) => [name, percent(a.train[l]), percent(a.validation[l])]),
  });
  const image =
    sheet === null
      ? ''
      : `<figure><img src="${pngDataUri(sheet)}" alt="${escapeHtml(`contact sheet of the first picks of the queue (${doc.strategy})`)}"></figure>`;
  const rows = htmlTable({
    caption: `The first ${Math.min(ROWS_SHOWN, doc.rows.length)} of ${doc.rows.length} (all in queue.csv)`,
    head: ['rank', 'input', 'predicted', 'confidence', 'score', 'serves'],
    rows: doc.rows
      .slice(0, ROWS_SHOWN)
      .map((r) => [String(r.rank), r.file ?? `#${r.index}`, r.predicted, percent(r.confidence), fraction(r.score), r.serves ?? '']),
  });
  return [
    {
      id: 'queue',
      title: 'Labeling queue',
      html: section(
        'queue',
        'Labeling queue',
        'What to label next, and why: written by <code>mode select</code>.',
        factList + perLabel + image + rows,
      ),
    },
  ];
}
