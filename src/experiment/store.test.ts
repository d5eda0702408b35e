/**
 * The result store, on SQLite and on a real PostgreSQL server started here: round trip, one
 * transaction per cell, a cell stored once, shared controls, models shared through the database,
 * refusal of foreign files and databases and of other schema versions, bad connections.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { expandCells, parseExperimentConfig } from './experiment-config.js';
import { startPostgres, type PostgresServer } from './postgres-harness.js';
import type { ArmResult } from './repair-doc.js';
import { fakeRepairDoc } from './repair-doc.fixture.js';
import { ResultStore, STORE_SCHEMA_VERSION, storedCellKeys, type CellRecord } from './store.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mode-store-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const fakeRepairJson = (final: number, control: number) => fakeRepairDoc({ strategy: 's', initial: 0.9, final, control });

const cells = expandCells(parseExperimentConfig({ strategies: ['mode', 'targeted-random'], seeds: 2, batches: 20 }));
const record = (i: number): CellRecord => ({
  key: cells[i]!.key,
  modelKey: cells[i]!.modelKey,
  label: cells[i]!.label,
  config: cells[i]!.config,
  result: fakeRepairJson(0.93, 0.92),
  seconds: 1.5,
});
const model = { dataset: 'mnist', classSubset: null, scenario: {}, model: 'mlp', sizes: {}, epochs: 1, seed: 1 } as const;

/** A backend: how to make a new, empty store location of a name. */
interface Backend {
  readonly name: string;
  make(name: string): Promise<string>;
}

let server: PostgresServer | null = null;
const backends: Backend[] = [{ name: 'sqlite', make: async (name) => path.join(tmp, `${name}.sqlite`) }];
const postgres: Backend = { name: 'postgres', make: (name) => server!.createDatabase(name) };
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());
backends.push(postgres);

for (const backend of backends) {
  describe(`store on ${backend.name}`, () => {
    const skip = (): boolean => backend === postgres && server === null;

    test('a cell round-trips with its iterations; a key stored twice is stored once, the first intact', async (t) => {
      if (skip()) return t.skip('PostgreSQL is not installed here');
      const location = await backend.make('roundtrip');
      const store = await ResultStore.open(location);
      assert.equal((await store.meta()).schema_version, String(STORE_SCHEMA_VERSION));
      assert.equal(await store.recordCell(record(0)), true);
      assert.equal(await store.recordCell(record(1)), true);
      assert.equal(await store.recordCell({ ...record(0), seconds: 99, result: fakeRepairJson(0.5, 0.5) }), false);
      await store.recordFailure(cells[2]!.key, cells[2]!.label, 'boom', 0.1);
      await store.close();
      const again = await ResultStore.open(location, { readonly: true });
      const stored = await again.cells();
      assert.deepEqual(
        stored.map((c) => c.key),
        [cells[0]!.key, cells[1]!.key],
      );
      assert.deepEqual(stored[0]!.config, cells[0]!.config);
      assert.deepEqual(stored[0]!.result, fakeRepairJson(0.93, 0.92));
      assert.equal(stored[0]!.seconds, 1.5);
      assert.equal(await again.count('iterations'), 2 * 2 * 2, 'two cells x two arms x two iterations, none from the second write');
      assert.deepEqual(
        (await again.openFailures()).map((f) => [f.key, f.message]),
        [[cells[2]!.key, 'boom']],
      );
      assert.deepEqual(await again.doneKeys(), new Set([cells[0]!.key, cells[1]!.key]));
      assert.deepEqual(await storedCellKeys(location), new Set([cells[0]!.key, cells[1]!.key]));
      await assert.rejects(() => again.recordCell(record(2)), /readonly|read-only/);
      await again.close();
    });

    test('a control arm is stored with the cell that computed it, once, and rolls back with it', async (t) => {
      if (skip()) return t.skip('PostgreSQL is not installed here');
      const store = await ResultStore.open(await backend.make('controls'));
      const arm: ArmResult = { ...fakeRepairJson(0.93, 0.92).arms[1]!, strategy: { kind: 'random' }, seconds: 1.5, stageSeconds: {} };
      assert.equal(await store.control('k1'), null);
      await store.recordCell({ ...record(0), control: { key: 'k1', arm } });
      assert.deepEqual(await store.control('k1'), arm);
      // A cell already stored writes nothing: its (new) control is not stored either.
      assert.equal(await store.recordCell({ ...record(0), control: { key: 'k2', arm } }), false);
      assert.equal(await store.control('k2'), null);
      // A cell whose iterations cannot be written leaves nothing behind: not the cell, not its control.
      const broken = { ...record(2), control: { key: 'k3', arm }, result: { ...record(2).result, arms: [arm, arm] } };
      await assert.rejects(() => store.recordCell(broken), /UNIQUE|duplicate key/);
      assert.equal(await store.control('k3'), null);
      assert.ok(!(await store.doneKeys()).has(cells[2]!.key));
      // A second writer of the same control key keeps the first.
      await store.recordCell({ ...record(1), control: { key: 'k1', arm: { ...arm, seconds: 9 } } });
      assert.equal(await store.count('controls'), 1);
      assert.equal((await store.control('k1'))!.seconds, 1.5);
      assert.deepEqual(await store.controlKeys(), new Set(['k1']));
      await store.close();
    });

    test('the engine of the first sweep is kept; another is refused', async (t) => {
      if (skip()) return t.skip('PostgreSQL is not installed here');
      const store = await ResultStore.open(await backend.make('engines'));
      await store.claimEngine('torch');
      await store.claimEngine('torch');
      await assert.rejects(
        () => store.claimEngine('tfjs-wasm'),
        /holds results computed on the torch engine and this sweep runs on tfjs-wasm/,
      );
      await store.close();
    });

    test('one local sweep at a time holds the store', async (t) => {
      if (skip()) return t.skip('PostgreSQL is not installed here');
      const location = await backend.make('locks');
      // The holder is another process (a lock file names its process, and a process may retake its own).
      const holder = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { ResultStore } = await import(${JSON.stringify(new URL('./store.js', import.meta.url).href)});
           const store = await ResultStore.open(${JSON.stringify(location)});
           const release = await store.lock();
           process.stdout.write('locked\\n');
           process.stdin.once('data', async () => { await release(); await store.close(); });`,
        ],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      await once(holder.stdout, 'data');
      const second = await ResultStore.open(location);
      await assert.rejects(() => second.lock(), /is in use by a running/);
      holder.stdin.end('go\n');
      await once(holder, 'exit');
      await (
        await second.lock()
      )();
      await second.close();
    });
  });
}

test('a model trained on one machine is fetched from a PostgreSQL store by another', async (t) => {
  if (server === null) return t.skip('PostgreSQL is not installed here');
  const location = await server.createDatabase('models');
  const folder = path.join(tmp, 'machine-a', 'model');
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'manifest.json'), '{"a":1}');
  writeFileSync(path.join(folder, 'weights.bin'), Buffer.from([0, 1, 2, 255]));
  const store = await ResultStore.open(location);
  await store.recordModel('m1', model, folder, 2.5);
  await store.recordModel('m1', model, folder, 2.5); // a retrain replaces it
  const elsewhere = path.join(tmp, 'machine-b', 'm1');
  assert.equal(await store.fetchModel('m1', elsewhere), true);
  assert.deepEqual(readFileSync(path.join(elsewhere, 'weights.bin')), Buffer.from([0, 1, 2, 255]));
  assert.equal(readFileSync(path.join(elsewhere, 'manifest.json'), 'utf8'), '{"a":1}');
  assert.equal(await store.fetchModel('absent', path.join(tmp, 'machine-b', 'absent')), false);
  await store.close();
});

/** Every table of a database and its rows, to show that a refusal wrote nothing. */
async function databaseContent(database: string): Promise<string> {
  const tables = (
    await server!.sql(
      database,
      "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables " +
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
  ).rows.map((r: { name: string }) => r.name);
  const parts = [];
  for (const table of tables) parts.push(table, JSON.stringify((await server!.sql(database, `SELECT * FROM ${table}`)).rows));
  const schemas = (await server!.sql(database, 'SELECT nspname FROM pg_namespace ORDER BY 1')).rows.map(
    (r: { nspname: string }) => r.nspname,
  );
  return [...schemas, ...parts].join('\n');
}

test('PostgreSQL bad input: unreachable, wrong credentials, no such database, another program tables, another schema version', async (t) => {
  if (server === null) return t.skip('PostgreSQL is not installed here');
  const s = server;
  const closed = `postgres://mode:x@127.0.0.1:${s.port === 1 ? 2 : 1}/db`;
  await assert.rejects(
    () => ResultStore.open(closed),
    /^ModeError: cannot reach the PostgreSQL server of postgres:\/\/mode:\*\*\*@127\.0\.0\.1:1\/db \(ECONNREFUSED\); start it, or check the host and port in --store$/,
  );
  await s.createDatabase('creds');
  await assert.rejects(
    () => ResultStore.open(s.url('creds', { user: 'mode', password: 'wrong' })),
    /^ModeError: PostgreSQL refused the credentials for postgres:\/\/mode:\*\*\*@127\.0\.0\.1:\d+\/creds \(password authentication failed for user "mode"\); check the user and password/,
  );
  await assert.rejects(() => ResultStore.open(s.url('nosuchdb')), /database "nosuchdb" does not exist; create it first \(createdb\)/);

  await s.createDatabase('theirs');
  await s.sql('theirs', 'CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)');
  const theirs = await databaseContent('theirs');
  await assert.rejects(
    () => ResultStore.open(s.url('theirs')),
    /theirs holds another program's tables \(public\.accounts\), not a mode result store; give mode a database of its own/,
  );
  await assert.rejects(() => ResultStore.open(s.url('theirs'), { readonly: true }), /holds another program's tables/);
  assert.equal(await databaseContent('theirs'), theirs, 'nothing was written');

  const older = await s.createDatabase('older');
  await (await ResultStore.open(older)).close();
  await s.sql('older', "UPDATE mode.meta SET value = '2' WHERE key = 'schema_version'");
  const before = await databaseContent('older');
  await assert.rejects(
    () => ResultStore.open(older),
    /older is a result store of schema version 2, .*; rerun the experiment into a new --store; the database was left as it is/,
  );
  assert.equal(await databaseContent('older'), before, 'nothing was written');

  const empty = await s.createDatabase('empty');
  await assert.rejects(() => ResultStore.open(empty, { readonly: true }), /holds no result store yet; run `mode experiment --store` first/);
  assert.deepEqual(await storedCellKeys(empty), new Set());
});

test('two processes creating the same PostgreSQL store at once make one', async (t) => {
  if (server === null) return t.skip('PostgreSQL is not installed here');
  const location = await server.createDatabase('race');
  const stores = await Promise.all([ResultStore.open(location), ResultStore.open(location), ResultStore.open(location)]);
  assert.equal((await server.sql('race', 'SELECT count(*)::int AS n FROM mode.meta')).rows[0].n, 4);
  for (const store of stores) await store.close();
});

const unchanged = async (file: string, work: () => Promise<void>): Promise<void> => {
  const before = readFileSync(file);
  const mtime = statSync(file).mtimeMs;
  await work();
  assert.deepEqual(readFileSync(file), before, 'the file was left as it was');
  assert.equal(statSync(file).mtimeMs, mtime);
};

test('an SQLite store of another schema version is refused, not overwritten', async () => {
  const file = path.join(tmp, 'newer.sqlite');
  await (await ResultStore.open(file)).close();
  const db = new Database(file);
  db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  await unchanged(file, () =>
    assert.rejects(
      () => ResultStore.open(file),
      new RegExp(
        `newer\\.sqlite is a result store of schema version 99, written by mode .*; this mode \\(.*\\) reads version ` +
          `${STORE_SCHEMA_VERSION} only; upgrade mode, or choose another --store`,
      ),
    ),
  );
  await assert.rejects(() => ResultStore.open(file, { readonly: true }), /schema version 99/);
});

test('a file that is not our store is refused untouched', async () => {
  const text = path.join(tmp, 'notes.sqlite');
  writeFileSync(text, 'these are my notes, not a database\n'.repeat(200));
  await unchanged(text, () =>
    assert.rejects(
      () => ResultStore.open(text),
      /notes\.sqlite is not a mode result store \(not an SQLite database: file is not a database\); choose another --store/,
    ),
  );
  const foreign = path.join(tmp, 'foreign.sqlite');
  const db = new Database(foreign);
  db.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)');
  db.close();
  await unchanged(foreign, () =>
    assert.rejects(
      () => ResultStore.open(foreign),
      /foreign\.sqlite is an SQLite database but not a mode result store \(tables: accounts\)/,
    ),
  );
  await assert.rejects(
    () => ResultStore.open(path.join(tmp, 'absent.sqlite'), { readonly: true }),
    /no result store at '.*absent\.sqlite'/,
  );
  await assert.rejects(() => ResultStore.open(tmp), /is not a file/);
});

test('an SQLite store of an older schema version (before shared controls) is refused with a way out', async () => {
  const file = path.join(tmp, 'older.sqlite');
  await (await ResultStore.open(file)).close();
  const db = new Database(file);
  db.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  await unchanged(file, () =>
    assert.rejects(
      () => ResultStore.open(file),
      /older\.sqlite is a result store of schema version 1, .*; rerun the experiment into a new --store; the file was left as it is/,
    ),
  );
});

test('an SQLite store is written in WAL mode, one row per arm and iteration', async () => {
  const file = path.join(tmp, 'wal.sqlite');
  const store = await ResultStore.open(file);
  await store.recordCell(record(0));
  await store.close();
  const db = new Database(file, { readonly: true });
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  const rows = db
    .prepare("SELECT arm, iteration, target_label, per_label FROM iterations WHERE cell_key = ? AND arm = 'control' ORDER BY iteration")
    .all(cells[0]!.key) as { per_label: string }[];
  assert.equal(rows.length, 2);
  assert.deepEqual(JSON.parse(rows[0]!.per_label).test.length, 3);
  db.close();
});
