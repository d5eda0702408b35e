/**
 * The charting library inlined into every report page: Chart.js's UMD bundle from the `chart.js`
 * package (a dependency pinned in package.json), read from node_modules, so a report opens from disk
 * with no network and shows the same charts with every version of the page.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ModeError } from '../../core/errors.js';

/** The UMD bundle beside the package's CommonJS entry (dist/chart.cjs). */
const BUNDLE = 'chart.umd.min.js';

let cached: { source: string; version: string } | null = null;

/** Chart.js's browser bundle and its version. */
export function chartLibrary(): { source: string; version: string } {
  if (cached !== null) return cached;
  const require = createRequire(import.meta.url);
  let file: string;
  let source: string;
  try {
    file = join(dirname(require.resolve('chart.js')), BUNDLE);
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ModeError(
      'io',
      `cannot read Chart.js's browser bundle (${(error as Error).message}); run \`npm ci\` to install the chart.js package`,
    );
  }
  const version = /Chart\.js v(\d+\.\d+\.\d+)/.exec(source.slice(0, 300))?.[1] ?? 'unknown';
  // Inlined in a <script> element, the text must not close it.
  cached = { source: source.replace(/<\/script/gi, '<\\/script'), version };
  return cached;
}
