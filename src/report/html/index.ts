/** The HTML report: pure page building (content in, HTML out) and Chart.js's bundle to inline. */
export { reportHtml } from './report.js';
export { chartLibrary } from './chart-library.js';
export type { ReportContent } from './content.js';
