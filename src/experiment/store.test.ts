/** The result store: round trip, one transaction per cell, refusal of foreign files and other schema versions. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { expandCells, parseExperimentConfig } from './experiment-config.js';
import type { ArmResult } from './repair-doc.js';
import { fakeRepairDoc } from './repair-doc.fixture.js';
import { ResultStore, STORE_SCHEMA_VERSION, type CellRecord } from './store.js';

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

test('a cell round-trips with its iterations; storing a key twice fails and leaves the first intact', () => {
  const file = path.join(tmp, 'a.sqlite');
  const store = ResultStore.open(file);
  assert.equal(store.meta().schema_version, String(STORE_SCHEMA_VERSION));
  store.recordCell(record(0));
  store.recordCell(record(1));
  assert.throws(() => store.recordCell(record(0)), /UNIQUE constraint failed: cells\.key/);
  store.recordFailure(cells[2]!.key, cells[2]!.label, 'boom', 0.1);
  store.close();
  const again = ResultStore.open(file, { readonly: true });
  const stored = again.cells();
  assert.deepEqual(
    stored.map((c) => c.key),
    [cells[0]!.key, cells[1]!.key],
  );
  assert.deepEqual(stored[0]!.config, cells[0]!.config);
  assert.deepEqual(stored[0]!.result, fakeRepairJson(0.93, 0.92));
  assert.equal(again.count('iterations'), 2 * 2 * 2, 'two cells x two arms x two iterations, none from the failed second insert');
  assert.deepEqual(
    again.openFailures().map((f) => [f.key, f.message]),
    [[cells[2]!.key, 'boom']],
  );
  assert.deepEqual(again.doneKeys(), new Set([cells[0]!.key, cells[1]!.key]));
  assert.throws(() => again.recordCell(record(2)), /readonly/);
  again.close();
  const db = new Database(file, { readonly: true });
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  const row = db
    .prepare("SELECT arm, iteration, target_label, per_label FROM iterations WHERE cell_key = ? AND arm = 'control' ORDER BY iteration")
    .all(cells[0]!.key) as { per_label: string }[];
  assert.equal(row.length, 2);
  assert.deepEqual(JSON.parse(row[0]!.per_label).test.length, 3);
  db.close();
});

const unchanged = (file: string, work: () => void): void => {
  const before = readFileSync(file);
  const mtime = statSync(file).mtimeMs;
  work();
  assert.deepEqual(readFileSync(file), before, 'the file was left as it was');
  assert.equal(statSync(file).mtimeMs, mtime);
};

test('a store of another schema version is refused, not overwritten', () => {
  const file = path.join(tmp, 'newer.sqlite');
  ResultStore.open(file).close();
  const db = new Database(file);
  db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  unchanged(file, () =>
    assert.throws(
      () => ResultStore.open(file),
      new RegExp(
        `newer\\.sqlite is a result store of schema version 99, written by mode .*; this mode \\(.*\\) reads version ` +
          `${STORE_SCHEMA_VERSION} only; upgrade mode, or choose another --store`,
      ),
    ),
  );
  assert.throws(() => ResultStore.open(file, { readonly: true }), /schema version 99/);
});

test('a file that is not our store is refused untouched', () => {
  const text = path.join(tmp, 'notes.sqlite');
  writeFileSync(text, 'these are my notes, not a database\n'.repeat(200));
  unchanged(text, () =>
    assert.throws(
      () => ResultStore.open(text),
      /notes\.sqlite is not a mode result store \(not an SQLite database: file is not a database\); choose another --store/,
    ),
  );
  const foreign = path.join(tmp, 'foreign.sqlite');
  const db = new Database(foreign);
  db.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)');
  db.close();
  unchanged(foreign, () =>
    assert.throws(
      () => ResultStore.open(foreign),
      /foreign\.sqlite is an SQLite database but not a mode result store \(tables: accounts\)/,
    ),
  );
  assert.throws(() => ResultStore.open(path.join(tmp, 'absent.sqlite'), { readonly: true }), /no result store at '.*absent\.sqlite'/);
  assert.throws(() => ResultStore.open(tmp), /is not a file/);
});

test('a control arm is stored with the cell that computed it, once, and rolls back with it', () => {
  const file = path.join(tmp, 'controls.sqlite');
  const store = ResultStore.open(file);
  const arm: ArmResult = { ...fakeRepairJson(0.93, 0.92).arms[1]!, strategy: { kind: 'random' }, seconds: 1.5, stageSeconds: {} };
  assert.equal(store.control('k1'), null);
  store.recordCell({ ...record(0), control: { key: 'k1', arm } });
  assert.deepEqual(store.control('k1'), arm);
  // A duplicate cell fails the transaction: its (new) control is not stored either.
  assert.throws(() => store.recordCell({ ...record(0), control: { key: 'k2', arm } }), /UNIQUE constraint failed: cells\.key/);
  assert.equal(store.control('k2'), null);
  // A second writer of the same control key keeps the first.
  store.recordCell({ ...record(1), control: { key: 'k1', arm: { ...arm, seconds: 9 } } });
  assert.equal(store.count('controls'), 1);
  assert.equal(store.control('k1')!.seconds, 1.5);
  assert.deepEqual(store.controlKeys(), new Set(['k1']));
  store.close();
});

test('a store of an older schema version (before shared controls) is refused with a way out', () => {
  const file = path.join(tmp, 'older.sqlite');
  ResultStore.open(file).close();
  const db = new Database(file);
  db.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  unchanged(file, () =>
    assert.throws(
      () => ResultStore.open(file),
      /older\.sqlite is a result store of schema version 1, .*; rerun the experiment into a new --store; the file was left as it is/,
    ),
  );
});
