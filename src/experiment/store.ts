/**
 * The result store of experiments: one SQLite file (better-sqlite3, WAL mode). A cell's rows (the
 * cell with its resolved config and repair.json, and one row per arm and iteration) are written in
 * ONE transaction when the cell finishes, so a process killed at any moment (kill -9 included) leaves
 * the whole cell or nothing; the cell's key is the PRIMARY KEY, so nothing is stored twice.
 *
 * Tables: meta (kind, schema version, tool version, created), runs (each sweep started), models
 * (initial models trained, with their folders), controls (control arms, each shared by the cells of
 * one model, seed and budget; written with the first cell that computed it), cells (done cells only),
 * iterations, failures (each failed attempt; a failed cell is not done and runs again next time).
 *
 * A file that is not an SQLite database, an SQLite database that is not ours, or a store of another
 * schema version is refused before anything is written to it.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { toolVersion } from '../core/environment.js';
import { ModeError } from '../core/errors.js';
import { parseStrategy } from '../select/strategies.js';
import type { CellConfig, CellSettings, ModelConfig } from './experiment-config.js';
import { checkArmResult, checkRepairDoc, type ArmResult, type RepairDoc, type RepairDocInput } from './repair-doc.js';

const STORE_KIND = 'mode-experiment-store';
/**
 * Bump when the tables change, or when the same cell would compute other numbers, so that a store's
 * results never mix: a store of another version is refused, never rewritten. 2: shared controls;
 * 3: feature-model heads on a class-balanced sample (headRowsPerLabel).
 */
export const STORE_SCHEMA_VERSION = 3;
/** How long a writer waits for another connection's lock (a reader's snapshot) before failing, ms. */
const BUSY_TIMEOUT_MS = 10_000;

const SCHEMA =
  `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, tool_version TEXT NOT NULL, ` +
  `config TEXT NOT NULL, cells INTEGER NOT NULL);
CREATE TABLE models (key TEXT PRIMARY KEY, config TEXT NOT NULL, path TEXT NOT NULL, seconds REAL, finished_at TEXT NOT NULL);
CREATE TABLE controls (key TEXT PRIMARY KEY, model_key TEXT NOT NULL, arm TEXT NOT NULL, seconds REAL NOT NULL, finished_at TEXT NOT NULL);
CREATE TABLE cells (
  key TEXT PRIMARY KEY, model_key TEXT NOT NULL, label TEXT NOT NULL, config TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status = 'done'), result TEXT NOT NULL, seconds REAL NOT NULL, finished_at TEXT NOT NULL
);
CREATE TABLE iterations (
  cell_key TEXT NOT NULL REFERENCES cells(key), arm TEXT NOT NULL, iteration INTEGER NOT NULL, target_label INTEGER,
  validation_accuracy REAL NOT NULL, test_accuracy REAL NOT NULL, per_label TEXT NOT NULL, share_already_correct REAL,
  PRIMARY KEY (cell_key, arm, iteration)
);
CREATE TABLE failures (id INTEGER PRIMARY KEY AUTOINCREMENT, cell_key TEXT NOT NULL, label TEXT NOT NULL, message TEXT NOT NULL, ` +
  `seconds REAL, failed_at TEXT NOT NULL);
`;

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

const refuse = (file: string, why: string, fix: string): ModeError => new ModeError('io', `${file} ${why}; ${fix}`);

export class ResultStore {
  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {}

  /** Opens (or, for writing, creates) a store; refuses anything that is not a store of this schema version. */
  static open(file: string, options: StoreOptions = {}): ResultStore {
    const readonly = options.readonly === true;
    if (readonly && !existsSync(file))
      throw new ModeError('usage', `no result store at '${file}'; pass the --store of a \`mode experiment\` run`);
    if (existsSync(file) && !statSync(file).isFile()) throw refuse(file, 'is not a file', 'pass the path of a .sqlite result store');
    if (!readonly) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(file, { readonly, fileMustExist: readonly });
    } catch (error) {
      throw refuse(file, `cannot be opened as a result store (${(error as Error).message})`, 'check the path and its permissions');
    }
    try {
      ResultStore.check(db, file, readonly);
    } catch (error) {
      db.close();
      throw error;
    }
    return new ResultStore(db, file);
  }

  /** Reads before it writes: a foreign file is refused untouched. */
  private static check(db: Database.Database, file: string, readonly: boolean): void {
    let tables: string[];
    try {
      tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    } catch (error) {
      throw refuse(
        file,
        `is not a mode result store (not an SQLite database: ${(error as Error).message})`,
        'choose another --store; the file was left as it is',
      );
    }
    if (tables.length === 0) {
      if (readonly) throw refuse(file, 'is an empty SQLite database, not a result store', 'run `mode experiment --store` first');
      db.pragma('journal_mode = WAL');
      db.transaction(() => {
        db.exec(SCHEMA);
        const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        put.run('kind', STORE_KIND);
        put.run('schema_version', String(STORE_SCHEMA_VERSION));
        put.run('tool_version', toolVersion());
        put.run('created', new Date().toISOString());
      })();
    } else {
      if (!tables.includes('meta'))
        throw refuse(
          file,
          `is an SQLite database but not a mode result store (tables: ${tables.slice(0, 5).join(', ')})`,
          'choose another --store; the file was left as it is',
        );
      const meta = new Map(
        (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]),
      );
      if (meta.get('kind') !== STORE_KIND)
        throw refuse(
          file,
          `is an SQLite database but not a mode result store (meta kind '${meta.get('kind') ?? 'missing'}')`,
          'choose another --store; the file was left as it is',
        );
      const version = Number(meta.get('schema_version'));
      if (version !== STORE_SCHEMA_VERSION) {
        const newer = version > STORE_SCHEMA_VERSION;
        throw refuse(
          file,
          `is a result store of schema version ${meta.get('schema_version')}, written by mode ${meta.get('tool_version') ?? '?'}; ` +
            `this mode (${toolVersion()}) reads version ${STORE_SCHEMA_VERSION} only`,
          newer ? 'upgrade mode, or choose another --store' : 'rerun the experiment into a new --store; the file was left as it is',
        );
      }
    }
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      // FULL: a committed cell survives a power cut too, not only a killed process; a cell commits once, so the cost is nil.
      db.pragma('synchronous = FULL');
    }
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }

  meta(): Record<string, string> {
    return Object.fromEntries(
      (this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]),
    );
  }

  /**
   * The engine a store's results come from: set by the first sweep's first worker; a later sweep on
   * another engine is refused, since two engines' numbers differ and their cells must not mix.
   */
  claimEngine(engine: string): void {
    const stored = this.meta().engine;
    if (stored === undefined) {
      this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('engine', engine);
      return;
    }
    if (stored !== engine) {
      throw new ModeError(
        'usage',
        `${this.file} holds results computed on the ${stored} engine and this sweep runs on ${engine}; ` +
          `rerun with the --engine that made them, or pass a new --store (results of two engines are not mixed)`,
      );
    }
  }

  /** Records that a sweep started, with its config. */
  recordRun(config: unknown, cells: number): void {
    this.db
      .prepare('INSERT INTO runs (started_at, tool_version, config, cells) VALUES (?, ?, ?, ?)')
      .run(new Date().toISOString(), toolVersion(), JSON.stringify(config), cells);
  }

  doneKeys(): Set<string> {
    return new Set(this.db.prepare('SELECT key FROM cells').pluck().all() as string[]);
  }

  /** Writes a finished cell and its iterations in one transaction; a key already stored fails the whole transaction. */
  recordCell(record: CellRecord): void {
    const insertCell = this.db.prepare(
      'INSERT INTO cells (key, model_key, label, config, status, result, seconds, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertIteration = this.db.prepare(
      'INSERT INTO iterations (cell_key, arm, iteration, target_label, validation_accuracy, test_accuracy, per_label, ' +
        'share_already_correct) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertControl = this.db.prepare(
      'INSERT OR IGNORE INTO controls (key, model_key, arm, seconds, finished_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      if (record.control !== undefined) {
        insertControl.run(
          record.control.key,
          record.modelKey,
          JSON.stringify(record.control.arm),
          record.control.arm.seconds,
          new Date().toISOString(),
        );
      }
      insertCell.run(
        record.key,
        record.modelKey,
        record.label,
        JSON.stringify(record.config),
        'done',
        JSON.stringify(record.result),
        record.seconds,
        new Date().toISOString(),
      );
      for (const arm of record.result.arms) {
        for (const it of arm.iterations) {
          insertIteration.run(
            record.key,
            arm.name,
            it.iteration,
            it.target?.label ?? null,
            it.validation.accuracy,
            it.test.accuracy,
            JSON.stringify({ validation: it.validation.perLabel, test: it.test.perLabel }),
            Number.isFinite(it.shareAlreadyCorrect) ? it.shareAlreadyCorrect : null,
          );
        }
      }
    })();
  }

  /** A stored control arm, or null. */
  control(key: string): ArmResult | null {
    const row = this.db.prepare('SELECT arm FROM controls WHERE key = ?').pluck().get(key) as string | undefined;
    return row === undefined ? null : checkArmResult(JSON.parse(row), `${this.file} (control ${key})`);
  }

  controlKeys(): Set<string> {
    return new Set(this.db.prepare('SELECT key FROM controls').pluck().all() as string[]);
  }

  recordFailure(key: string, label: string, message: string, seconds: number | null): void {
    this.db
      .prepare('INSERT INTO failures (cell_key, label, message, seconds, failed_at) VALUES (?, ?, ?, ?, ?)')
      .run(key, label, message, seconds, new Date().toISOString());
  }

  recordModel(key: string, config: ModelConfig, folder: string, seconds: number | null): void {
    this.db
      .prepare('INSERT OR REPLACE INTO models (key, config, path, seconds, finished_at) VALUES (?, ?, ?, ?, ?)')
      .run(key, JSON.stringify(config), folder, seconds, new Date().toISOString());
  }

  cells(): StoredCell[] {
    const rows = this.db.prepare('SELECT key, model_key, label, config, result, seconds, finished_at FROM cells ORDER BY rowid').all() as {
      key: string;
      model_key: string;
      label: string;
      config: string;
      result: string;
      seconds: number;
      finished_at: string;
    }[];
    return rows.map((r) => {
      const config = JSON.parse(r.config) as CellConfig;
      return {
        key: r.key,
        modelKey: r.model_key,
        label: r.label,
        config,
        spec: parseStrategy(config.strategy),
        result: checkRepairDoc(JSON.parse(r.result), `${this.file} (cell ${r.key})`),
        seconds: r.seconds,
        finishedAt: r.finished_at,
      };
    });
  }

  /** Failed attempts of cells that are still not done, newest first. */
  openFailures(): StoredFailure[] {
    return (
      this.db
        .prepare('SELECT cell_key, label, message, failed_at FROM failures WHERE cell_key NOT IN (SELECT key FROM cells) ORDER BY id DESC')
        .all() as {
        cell_key: string;
        label: string;
        message: string;
        failed_at: string;
      }[]
    ).map((r) => ({ key: r.cell_key, label: r.label, message: r.message, failedAt: r.failed_at }));
  }

  count(table: 'cells' | 'iterations' | 'models' | 'controls' | 'failures' | 'runs'): number {
    return this.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  }

  close(): void {
    this.db.close();
  }
}
