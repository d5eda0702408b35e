#!/usr/bin/env node
// Runs the compiled test files (dist/**/*.test.js) with Node's test runner, two at a time. The files
// are listed here because `node --test DIR` searches DIR on Node 20 but runs DIR as a module on 22+.
//   node scripts/test.mjs [--test-name-pattern=...]   (after npm run build; npm test does both)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist', 'src');
const files = readdirSync(dist, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => path.join(dist, f));
if (files.length === 0) {
  process.stderr.write(`no test files under ${dist}; run npm run build first\n`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...process.argv.slice(2), ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
