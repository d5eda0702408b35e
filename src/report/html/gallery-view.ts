/**
 * The slides' "most similar per metric" and "least similar per metric" pages: per buggy label, the
 * reference map as an image, then one gallery of pool inputs per metric (renderGallery PNGs).
 */
import { renderGallery } from '../png/index.js';
import type { Galleries, GalleryPick, LabelGalleries } from '../../select/galleries.js';
import { escapeHtml, labelName, pngDataUri, section } from './html.js';

const MAP_TEXT: Readonly<Record<string, string>> = {
  hc: 'HC, the mean of the correctly classified validation inputs',
  hm: 'HM, the mean of the missed validation inputs',
  hw: 'HW, the mean of the validation inputs wrongly claimed as the label',
  dhc: 'DHC, HC minus the HC of the most confused label',
  dhm: 'DHM = HC \u2212 HM',
  dhw: 'DHW = HW \u2212 HC',
};

/** A score in 3 significant digits (similarities near 1, negated distances of any size). */
const scoreText = (v: number): string =>
  (Math.abs(v) >= 1000 ? v.toExponential(2) : Number(v.toPrecision(3)).toString()).replace('-', '\u2212');

function caption(pick: GalleryPick, label: number, names: readonly string[]): string {
  const verdict = pick.predicted === label ? '\u2713' : `\u2192 ${labelName(names, pick.predicted)}`;
  return `${scoreText(pick.score)} ${verdict}`;
}

function galleryFigure(
  content: Galleries,
  galleries: LabelGalleries,
  metric: string,
  picks: readonly GalleryPick[],
  order: 'most' | 'least',
): string {
  const [h, w, c] = content.inputShape;
  const title = `${metric}: ${order} similar`;
  const png = renderGallery(
    title,
    picks.map((p) => ({ values: p.image, shape: [h, w, c] as const, caption: caption(p, galleries.label, content.classNames) })),
    { columns: Math.max(1, picks.length) },
  );
  const alt =
    `${title} to the reference map of label ${labelName(content.classNames, galleries.label)}: pool inputs ` +
    `${picks.map((p) => p.index).join(', ')}`;
  return `<figure><img src="${pngDataUri(png)}" alt="${escapeHtml(alt)}"></figure>`;
}

/**
 * Reference maps in input space hold means of [0, 1] pixels (H maps) or differences of them (D
 * maps): shown on [0, 1], differences shifted to 0.5.
 */
function referenceImage(content: Galleries, galleries: LabelGalleries): string {
  const [h, w, c] = content.inputShape;
  const difference = galleries.map.startsWith('d');
  const values = difference ? galleries.reference.map((v) => 0.5 + v / 2) : galleries.reference;
  const png = renderGallery(
    `reference: ${galleries.map.toUpperCase()}`,
    [{ values, shape: [h, w, c], caption: `${galleries.referenceCount} inputs` }],
    { scale: 4 },
  );
  return (
    `<img src="${pngDataUri(png)}" ` +
    `alt="${escapeHtml(`reference map ${galleries.map.toUpperCase()} of label ${labelName(content.classNames, galleries.label)} in input space`)}">`
  );
}

export function gallerySections(content: Galleries, idPrefix = 'galleries'): { id: string; title: string; html: string }[] {
  const body = content.labels
    .map((g) => {
      const name = labelName(content.classNames, g.label);
      const reference =
        `<div class="reference">${referenceImage(content, g)}<p>The ${g.candidates} pool inputs of label ` +
        `${escapeHtml(name)}, ranked under each metric by their similarity to ${escapeHtml(MAP_TEXT[g.map] ?? g.map)} (input space, ` +
        `pixel by pixel). Caption: the score (higher = more similar; distances are negated) and \u2713 when the model before repair ` +
        `classifies the input correctly, else \u2192 what it predicts.</p></div>`;
      const rows = g.perMetric
        .map((m) => `${galleryFigure(content, g, m.metric, m.most, 'most')}${galleryFigure(content, g, m.metric, m.least, 'least')}`)
        .join('\n');
      const galleries = `<div class="gallery-grid"><h4>Most similar per metric</h4><h4>Least similar per metric</h4>${rows}</div>`;
      return section(`${idPrefix}-${g.label}`, `Label ${name}`, '', `${reference}${galleries}`, 3);
    })
    .join('\n');
  const lead =
    'The slides\' pages "most similar per metric" and "least similar per metric": which pool inputs each similarity metric would ' +
    'pick first, and which last.';
  return [{ id: idPrefix, title: 'Galleries', html: section(idPrefix, 'Most and least similar pool inputs per metric', lead, body) }];
}
