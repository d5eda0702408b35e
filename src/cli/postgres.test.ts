/**
 * `mode experiment`, `mode results` and `mode report` on a PostgreSQL store (a real server started
 * here, on loopback): the same grid gives the same rows as in SQLite, a rerun runs nothing, and a bad
 * store is one line. Skipped where PostgreSQL is not installed, except under CI.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { startPostgres, type PostgresServer } from '../experiment/postgres-harness.js';
import { cliHarness, startServe } from './cli-harness.js';
import { CELL_ROWS, ITERATION_ROWS, TINY_SWEEP, withoutModelPath } from './tiny-sweep.fixture.js';

const { tmp, mode } = cliHarness('mode-postgres-');
// Each store's models go to this test's folder, not the user's cache.
process.env.MODE_CACHE = path.join(tmp, 'cache');

const TINY = TINY_SWEEP;

let server: PostgresServer | null = null;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

test('a sweep into PostgreSQL writes the rows the same sweep writes into SQLite; results and report read it', async (t) => {
  if (server === null) return t.skip('PostgreSQL is not installed here');
  const url = await server.createDatabase('tiny');
  const config = path.join(tmp, 'tiny.json');
  writeFileSync(config, JSON.stringify(TINY));

  const pg = mode('experiment', '--config', config, '--store', url, '--workers', '2');
  assert.equal(pg.status, 0, pg.stderr);
  assert.match(pg.stdout, /^4 cells: 0 were already done, 4 ran, 0 failed/);
  assert.ok(!pg.stderr.includes(server.password) && !pg.stdout.includes(server.password), 'the password is never printed');
  assert.match(pg.stderr, /4 cells: 0 already done in postgres:\/\/mode:\*\*\*@127\.0\.0\.1:\d+\/tiny, 4 to run/);
  const sqlite = mode('experiment', '--config', config, '--store', 'tiny.sqlite', '--workers', '2');
  assert.equal(sqlite.status, 0, sqlite.stderr);

  // Same rows, but for where each machine keeps the model.
  const db = new Database(path.join(tmp, 'tiny.sqlite'), { readonly: true });
  for (const sql of [CELL_ROWS, ITERATION_ROWS]) {
    const fromPg: unknown[] = (await server.sql('tiny', sql.replace(/FROM (\w+)/, 'FROM mode.$1'))).rows.map(withoutModelPath);
    assert.equal(fromPg.length, sql === CELL_ROWS ? 4 : 4 * 2 * 2);
    assert.ok(
      isDeepStrictEqual(fromPg, (db.prepare(sql).all() as Record<string, unknown>[]).map(withoutModelPath)),
      `same seeds, same rows: ${sql}`,
    );
  }
  db.close();

  const rerun = mode('experiment', '--config', config, '--store', url, '--workers', '2');
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stdout, /^4 cells: 4 were already done, 0 ran, 0 failed/);

  const tables = (store: string): string => mode('results', '--store', store).stdout.replace(/^.*tiny.*$/gm, '');
  assert.equal(tables(url), tables('tiny.sqlite'));
  const report = mode('report', '--from', url, '--out', 'report');
  assert.equal(report.status, 0, report.stderr);
  const served = await startServe(tmp, '--from', url, '--no-galleries');
  try {
    const state = (await (await fetch(new URL('/state', served.url))).json()) as { version: string };
    assert.equal(state.version, 'cells 4, failures 0');
    assert.match(await (await fetch(served.url)).text(), /id="live-badge"/);
  } finally {
    assert.equal(await served.stop(), 0, served.stderr());
  }

  const bad = mode('results', '--store', `postgres://mode:wrong@127.0.0.1:${server.port}/tiny`);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^mode: PostgreSQL refused the credentials for postgres:\/\/mode:\*\*\*@127\.0\.0\.1:\d+\/tiny .*\n$/);
});
