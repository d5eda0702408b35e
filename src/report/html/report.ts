/**
 * The whole report page from its content: an overview, then the views of whatever the source holds
 * (an experiment store's results and curves; a repair's table, curves, per-label accuracy and
 * confusion matrices; an analysis's buggy labels, layer chart and heat map sheets; the galleries).
 * Pure: same content, same HTML.
 */
import { tryParseStrategy } from '../../select/strategies.js';
import type { ReportContent } from './content.js';
import { analysisSections } from './analysis-view.js';
import { gallerySections } from './gallery-view.js';
import { escapeHtml, fact, labelName, percent, section } from './html.js';
import { renderPage, type PageOptions } from './page.js';
import { repairSections } from './repair-view.js';
import { queueSections } from './queue-view.js';
import { storeSections } from './store-view.js';

export interface ReportPageOptions {
  chartLibrary: PageOptions['chartLibrary'];
  live?: PageOptions['live'];
}

/** A fact card; long values take two columns. */

function overview(content: ReportContent): string {
  const facts: string[] = [];
  const { analysis, repair, store } = content;
  const names = analysis?.classNames ?? repair?.classNames ?? [];
  if (repair !== null || analysis !== null) {
    facts.push(fact('dataset', repair?.dataset ?? analysis!.dataset));
    if (repair !== null && repair.scenarios.length > 0) facts.push(fact('bug scenario', repair.scenarios.join('; ')));
    facts.push(fact('seed', String(repair?.seed ?? analysis!.seed)));
  }
  if (analysis !== null) {
    facts.push(fact('validation accuracy before repair', percent(analysis.model.validation.accuracy)));
    facts.push(
      fact(
        'buggy labels',
        analysis.bugs.length === 0
          ? 'none'
          : analysis.bugs.map((b) => `${labelName(names, b.label)} (${b.kind}, ${percent(b.validationAccuracy)} validation)`).join('; '),
      ),
    );
  } else if (repair !== null) {
    facts.push(
      fact(
        'buggy labels at the start',
        repair.initial.bugs.length === 0 ? 'none' : repair.initial.bugs.map((b) => `${labelName(names, b.label)} (${b.kind})`).join('; '),
      ),
    );
  }
  if (repair !== null) {
    const main = repair.table[0]!;
    facts.push(
      fact(
        'test accuracy',
        `${percent(main.initialAcc, 2)} \u2192 ${percent(main.finalAcc, 2)} with ` +
          `${tryParseStrategy(main.strategy)?.kind ?? main.strategy}, ${percent(main.controlAcc, 2)} with the control`,
      ),
    );
  }
  if (content.queue !== null && repair === null && analysis === null) {
    const queue = content.queue.doc;
    facts.push(fact('labeled data', queue.data), fact('pool', queue.pool), fact('seed', String(queue.seed)));
  }
  if (store !== null) {
    facts.push(fact('cells', `${store.cells.length}${store.failures > 0 ? ` (${store.failures} failed)` : ''}`));
    facts.push(fact('seeds', store.accuracy.seeds.join(', ')));
  }
  const notes = content.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('');
  return section('overview', 'Overview', '', `<ul class="facts">${facts.join('')}</ul>${notes}`);
}

export function reportHtml(content: ReportContent, options: ReportPageOptions): string {
  const parts: { id: string; title: string; html: string }[] = [{ id: 'overview', title: 'Overview', html: overview(content) }];
  if (content.store !== null) parts.push(...storeSections(content.store));
  if (content.repair !== null) parts.push(...repairSections(content.repair));
  if (content.analysis !== null) parts.push(...analysisSections(content.analysis));
  if (content.galleries !== null) parts.push(...gallerySections(content.galleries));
  if (content.queue !== null) parts.push(...queueSections(content.queue.doc, content.queue.sheet));
  return renderPage({
    title: content.title,
    subtitle: `from <code>${escapeHtml(content.source)}</code>`,
    contents: parts.map(({ id, title }) => ({ id, title })),
    body: parts.map((p) => p.html).join('\n'),
    chartLibrary: options.chartLibrary,
    ...(options.live !== undefined ? { live: options.live } : {}),
  });
}
