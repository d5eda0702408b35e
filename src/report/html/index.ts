/** The HTML report: pure page building (content in, HTML out) and Chart.js's bundle to inline. */
export { reportHtml, type ReportPageOptions } from './report.js';
export { chartLibrary } from './chart-library.js';
export type { ReportContent, StoreContent } from './content.js';
