/**
 * The result store of experiments: an SQLite file (store-sqlite.ts, the default for one machine) or a
 * PostgreSQL database (store-postgres.ts, for sweeps across machines), with the same tables and the
 * same rules. A cell's rows (the cell with its resolved config and repair.json, and one row per arm
 * and iteration) are written in ONE transaction when the cell finishes, so a process killed at any
 * moment (kill -9 included) leaves the whole cell or nothing; the cell's key is the PRIMARY KEY, so a
 * cell finished twice (by two workers) is stored once.
 *
 * Tables: meta (kind, schema version, tool version, created, engine), runs (each sweep started),
 * models (initial models trained, with their folders; in PostgreSQL also their files), controls
 * (control arms, each shared by the cells of one model, seed and budget; written with the first cell
 * that computed it), cells (done cells only), iterations, failures (each failed attempt; a failed
 * cell is not done and runs again next time).
 *
 * A file that is not an SQLite database, a database that is not ours, or a store of another schema
 * version is refused before anything is written to it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { toolVersion } from '../core/environment.js';
import { ModeError } from '../core/errors.js';
import { writeOutputFolder } from '../core/output-folder.js';
import { parseStrategy } from '../select/strategies.js';
import type { CellConfig, CellSettings, ModelConfig } from './experiment-config.js';
import { checkArmResult, checkRepairDoc, type ArmResult, type RepairDoc, type RepairDocInput } from './repair-doc.js';
import { storeLocation } from './store-location.js';
import { createPostgresTables, lockPostgresStore, openPostgres, tryPostgresLock } from './store-postgres.js';
import { writeSchema, type SqlConnection, type SqlRunner } from './store-sql.js';
import { lockSqliteStore, openSqlite, refuse, SQLITE_SCHEMA } from './store-sqlite.js';

const STORE_KIND = 'mode-experiment-store';
/**
 * Bump when the tables change, or when the same cell would compute other numbers, so that a store's
 * results never mix: a store of another version is refused, never rewritten. 2: shared controls;
 * 3: feature-model heads on a class-balanced sample (headRowsPerLabel); 4: the repair's bug
 * detection on a sample of the training set (detectRowsPerLabel).
 */
export const STORE_SCHEMA_VERSION = 4;

/** A finished cell as the sweep writes it: its repair.json, and the control arm it computed, if any. */
export interface CellRecord {
  readonly key: string;
  readonly modelKey: string;
  readonly label: string;
  readonly config: CellConfig;
  readonly result: RepairDocInput;
  readonly seconds: number;
  /** The control arm the cell computed, to share with later cells of the same control key. */
  readonly control?: { readonly key: string; readonly arm: ArmResult };
}

/** A finished cell as read back: validated, its strategy parsed. */
export interface StoredCell extends CellSettings {
  readonly key: string;
  readonly modelKey: string;
  readonly label: string;
  readonly result: RepairDoc;
  readonly seconds: number;
  readonly finishedAt: string;
}

export interface StoredFailure {
  readonly key: string;
  readonly label: string;
  readonly message: string;
  readonly failedAt: string;
}

export interface StoreOptions {
  /** Open an existing store for reading only (`mode results`); nothing is created or written. */
  readonly readonly?: boolean;
}

export interface StoreLocks {
  /** One local sweep at a time; resolves to the release. */
  readonly sweep: () => Promise<() => Promise<void>>;
  /** A named lock, or null when another process holds it. */
  readonly named: (name: string) => Promise<(() => Promise<void>) | null>;
}

export type Table = 'cells' | 'iterations' | 'models' | 'controls' | 'failures' | 'runs';

/** The meta rows of a new store. */
const newMeta = (): [string, string][] => [
  ['kind', STORE_KIND],
  ['schema_version', String(STORE_SCHEMA_VERSION)],
  ['tool_version', toolVersion()],
  ['created', new Date().toISOString()],
];

/** Refuses a store of another kind or schema version, before anything is written. */
function checkMeta(meta: ReadonlyMap<string, string>, shown: string, what: 'an SQLite database' | 'a PostgreSQL database'): void {
  const leftAsIs = `the ${what === 'an SQLite database' ? 'file' : 'database'} was left as it is`;
  if (meta.get('kind') !== STORE_KIND)
    throw refuse(
      shown,
      `is ${what} but not a mode result store (meta kind '${meta.get('kind') ?? 'missing'}')`,
      `choose another --store; ${leftAsIs}`,
    );
  const version = Number(meta.get('schema_version'));
  if (version !== STORE_SCHEMA_VERSION) {
    const newer = version > STORE_SCHEMA_VERSION;
    throw refuse(
      shown,
      `is a result store of schema version ${meta.get('schema_version')}, written by mode ${meta.get('tool_version') ?? '?'}; ` +
        `this mode (${toolVersion()}) reads version ${STORE_SCHEMA_VERSION} only`,
      newer ? 'upgrade mode, or choose another --store' : `rerun the experiment into a new --store; ${leftAsIs}`,
    );
  }
}

async function readMeta(connection: SqlConnection): Promise<Map<string, string>> {
  return new Map((await connection.all<{ key: string; value: string }>('SELECT key, value FROM meta')).map((r) => [r.key, r.value]));
}

/** Opens an SQLite store: creates an empty file's tables, refuses a foreign file untouched. */
async function openSqliteStore(file: string, readonly: boolean): Promise<ResultStore> {
  const opened = openSqlite(file, readonly);
  const { connection, tables } = opened;
  try {
    if (tables.length === 0) {
      if (readonly) throw refuse(file, 'is an empty SQLite database, not a result store', 'run `mode experiment --store` first');
      await connection.transaction((tx) => writeSchema(tx, SQLITE_SCHEMA, newMeta()));
    } else {
      if (!tables.includes('meta'))
        throw refuse(
          file,
          `is an SQLite database but not a mode result store (tables: ${tables.slice(0, 5).join(', ')})`,
          'choose another --store; the file was left as it is',
        );
      checkMeta(await readMeta(connection), file, 'an SQLite database');
    }
    opened.ready();
  } catch (error) {
    await connection.close();
    throw error;
  }
  return new ResultStore(connection, file, {
    sweep: async () => {
      const release = lockSqliteStore(file);
      return async () => release();
    },
    // One machine, one sweep: its parent process orders the work.
    named: async () => async () => undefined,
  });
}

/** Opens a PostgreSQL store: creates our schema in a database without tables, refuses one holding another program's. */
async function openPostgresStore(url: string | null, shown: string, readonly: boolean): Promise<ResultStore> {
  const { connection, tables, foreign } = await openPostgres(url, shown, readonly);
  try {
    if (!tables.includes('meta')) {
      if (foreign.length > 0)
        throw refuse(
          shown,
          `holds another program's tables (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', ...' : ''}), not a mode result store`,
          'give mode a database of its own (createdb), or choose another --store; nothing was written',
        );
      if (readonly) throw refuse(shown, 'holds no result store yet', 'run `mode experiment --store` first');
      await createPostgresTables(connection, newMeta());
    }
    checkMeta(await readMeta(connection), shown, 'a PostgreSQL database');
  } catch (error) {
    await connection.close();
    throw error;
  }
  return new ResultStore(connection, shown, {
    sweep: () => lockPostgresStore(connection.pool, shown),
    named: (name) => tryPostgresLock(connection.pool, name),
  });
}

export class ResultStore {
  constructor(
    private readonly db: SqlConnection,
    /** The store as messages name it (a PostgreSQL URL without its password). */
    readonly shown: string,
    private readonly locks: StoreLocks,
  ) {}

  /** Opens (or, for writing, creates) a store: an SQLite file, or a postgres:// URL; refuses anything that is not a store of this schema version. */
  static open(store: string, options: StoreOptions = {}): Promise<ResultStore> {
    const location = storeLocation(store);
    const readonly = options.readonly === true;
    return location.kind === 'sqlite'
      ? openSqliteStore(location.file, readonly)
      : openPostgresStore(location.url, location.shown, readonly);
  }

  get dialect(): SqlConnection['dialect'] {
    return this.db.dialect;
  }

  /** One local sweep at a time per store (a lock file, or a PostgreSQL advisory lock); resolves to its release. */
  lock(): Promise<() => Promise<void>> {
    return this.locks.sweep();
  }

  /** A lock of a name across every process on the store (an initial model being trained); null when another holds it. */
  tryLock(name: string): Promise<(() => Promise<void>) | null> {
    return this.locks.named(name);
  }

  async meta(): Promise<Record<string, string>> {
    return Object.fromEntries(await readMeta(this.db));
  }

  /**
   * The engine a store's results come from: set by the first sweep's first worker; a later sweep on
   * another engine is refused, since two engines' numbers differ and their cells must not mix.
   */
  async claimEngine(engine: string): Promise<void> {
    await this.db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', ['engine', engine]);
    const stored = (await this.meta()).engine;
    if (stored !== engine) {
      throw new ModeError(
        'usage',
        `${this.shown} holds results computed on the ${stored} engine and this sweep runs on ${engine}; ` +
          `rerun with the --engine that made them, or pass a new --store (results of two engines are not mixed)`,
      );
    }
  }

  /** Records that a sweep started, with its config. */
  async recordRun(config: unknown, cells: number): Promise<void> {
    await this.db.run('INSERT INTO runs (started_at, tool_version, config, cells) VALUES (?, ?, ?, ?)', [
      new Date().toISOString(),
      toolVersion(),
      JSON.stringify(config),
      cells,
    ]);
  }

  /** The configs of the sweeps recorded (recordRun), newest first, as parsed JSON (not checked: an older mode may have written them). */
  async runConfigs(): Promise<unknown[]> {
    const rows = await this.db.all<{ config: string }>('SELECT config FROM runs ORDER BY id DESC');
    return rows.map((r) => JSON.parse(r.config) as unknown);
  }

  async doneKeys(): Promise<Set<string>> {
    return new Set((await this.db.all<{ key: string }>('SELECT key FROM cells')).map((r) => r.key));
  }

  /** Runs `work` in one transaction of the store's database (for a queue that commits with the results). */
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /**
   * Writes a finished cell, its iterations and the control it computed in one transaction, with
   * `within` (a queue's job completion) in the same one. A key already stored (the same cell finished
   * by another worker) writes nothing but `within`: resolves to false.
   */
  recordCell(record: CellRecord, within?: (tx: SqlRunner) => Promise<void>): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await within?.(tx);
      const inserted = await tx.run(
        'INSERT INTO cells (key, model_key, label, config, status, result, seconds, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (key) DO NOTHING',
        [
          record.key,
          record.modelKey,
          record.label,
          JSON.stringify(record.config),
          'done',
          JSON.stringify(record.result),
          record.seconds,
          now(),
        ],
      );
      if (inserted === 0) return false;
      if (record.control !== undefined) {
        const { key, arm } = record.control;
        await tx.run(
          'INSERT INTO controls (key, model_key, arm, seconds, finished_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING',
          [key, record.modelKey, JSON.stringify(arm), arm.seconds, now()],
        );
      }
      for (const arm of record.result.arms) {
        for (const it of arm.iterations) {
          await tx.run(
            'INSERT INTO iterations (cell_key, arm, iteration, target_label, validation_accuracy, test_accuracy, per_label, ' +
              'share_already_correct) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
            [
              record.key,
              arm.name,
              it.iteration,
              it.target?.label ?? null,
              it.validation.accuracy,
              it.test.accuracy,
              JSON.stringify({ validation: it.validation.perLabel, test: it.test.perLabel }),
              Number.isFinite(it.shareAlreadyCorrect) ? it.shareAlreadyCorrect : null,
            ],
          );
        }
      }
      return true;
    });
  }

  /** A stored control arm, or null. */
  async control(key: string): Promise<ArmResult | null> {
    const row = (await this.db.all<{ arm: string }>('SELECT arm FROM controls WHERE key = ?', [key]))[0];
    return row === undefined ? null : checkArmResult(JSON.parse(row.arm), `${this.shown} (control ${key})`);
  }

  async controlKeys(): Promise<Set<string>> {
    return new Set((await this.db.all<{ key: string }>('SELECT key FROM controls')).map((r) => r.key));
  }

  async recordFailure(key: string, label: string, message: string, seconds: number | null): Promise<void> {
    await this.db.run('INSERT INTO failures (cell_key, label, message, seconds, failed_at) VALUES (?, ?, ?, ?, ?)', [
      key,
      label,
      message,
      seconds,
      now(),
    ]);
  }

  /** Records a trained initial model; in PostgreSQL its folder's files too, so that other machines use it. */
  recordModel(key: string, config: ModelConfig, folder: string, seconds: number | null): Promise<void> {
    return this.db.transaction(async (tx) => {
      await tx.run(
        'INSERT INTO models (key, config, path, seconds, finished_at) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET config = excluded.config, path = excluded.path, seconds = excluded.seconds, ' +
          'finished_at = excluded.finished_at',
        [key, JSON.stringify(config), folder, seconds, now()],
      );
      if (this.db.dialect !== 'postgres') return;
      await tx.run('DELETE FROM model_files WHERE model_key = ?', [key]);
      for (const name of readdirSync(folder))
        await tx.run('INSERT INTO model_files (model_key, name, bytes) VALUES (?, ?, ?)', [
          key,
          name,
          readFileSync(path.join(folder, name)),
        ]);
    });
  }

  /**
   * Writes a model another machine trained into `folder` (atomically, from the database's copy);
   * resolves to false when the store has no files of it (SQLite keeps models next to the file only).
   */
  async fetchModel(key: string, folder: string): Promise<boolean> {
    if (this.db.dialect !== 'postgres') return false;
    const files = await this.db.all<{ name: string; bytes: Buffer }>('SELECT name, bytes FROM model_files WHERE model_key = ?', [key]);
    if (files.length === 0) return false;
    await writeOutputFolder(folder, true, async (staging) => {
      for (const f of files) await writeFile(path.join(staging, f.name), f.bytes);
    });
    return true;
  }

  async cells(): Promise<StoredCell[]> {
    const order = this.db.dialect === 'postgres' ? 'seq' : 'rowid';
    const rows = await this.db.all<{
      key: string;
      model_key: string;
      label: string;
      config: string;
      result: string;
      seconds: number;
      finished_at: string;
    }>(`SELECT key, model_key, label, config, result, seconds, finished_at FROM cells ORDER BY ${order}`);
    return rows.map((r) => {
      const config = JSON.parse(r.config) as CellConfig;
      return {
        key: r.key,
        modelKey: r.model_key,
        label: r.label,
        config,
        spec: parseStrategy(config.strategy),
        result: checkRepairDoc(JSON.parse(r.result), `${this.shown} (cell ${r.key})`),
        seconds: r.seconds,
        finishedAt: r.finished_at,
      };
    });
  }

  /** Failed attempts of cells that are still not done, newest first. */
  async openFailures(): Promise<StoredFailure[]> {
    const rows = await this.db.all<{ cell_key: string; label: string; message: string; failed_at: string }>(
      'SELECT cell_key, label, message, failed_at FROM failures WHERE cell_key NOT IN (SELECT key FROM cells) ORDER BY id DESC',
    );
    return rows.map((r) => ({ key: r.cell_key, label: r.label, message: r.message, failedAt: r.failed_at }));
  }

  async count(table: Table): Promise<number> {
    return Number((await this.db.all<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

const now = (): string => new Date().toISOString();

/** The keys of the cells a store holds, for a plan (`mode experiment --dry-run`): none where there is no store yet; nothing is written. */
export async function storedCellKeys(store: string): Promise<Set<string>> {
  const location = storeLocation(store);
  if (location.kind === 'sqlite') {
    if (!existsSync(location.file)) return new Set();
  } else {
    const { connection, tables } = await openPostgres(location.url, location.shown, true);
    await connection.close();
    if (!tables.includes('meta')) return new Set();
  }
  const opened = await ResultStore.open(store, { readonly: true });
  try {
    return await opened.doneKeys();
  } finally {
    await opened.close();
  }
}
