/**
 * The SQLite side of the result store: one file (better-sqlite3, WAL mode, synchronous FULL so that a
 * committed cell survives a power cut too), and a lock file so that one sweep at a time writes it.
 * better-sqlite3 is synchronous; its calls are queued so that a transaction's work, which may await
 * between statements, never interleaves with another caller's.
 */
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ModeError } from '../core/errors.js';
import type { SqlConnection, SqlRunner, SqlValue } from './store-sql.js';

/** How long a writer waits for another connection's lock (a reader's snapshot) before failing, ms. */
const BUSY_TIMEOUT_MS = 10_000;

export const SQLITE_SCHEMA =
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

export const refuse = (shown: string, why: string, fix: string): ModeError => new ModeError('io', `${shown} ${why}; ${fix}`);

class SqliteConnection implements SqlConnection {
  readonly dialect = 'sqlite';
  private queue: Promise<unknown> = Promise.resolve();
  private readonly direct: SqlRunner;

  constructor(private readonly db: Database.Database) {
    this.direct = {
      all: async <T>(sql: string, params: readonly SqlValue[] = []) => db.prepare(sql).all(...params) as T[],
      run: async (sql: string, params: readonly SqlValue[] = []) => db.prepare(sql).run(...params).changes,
      raw: async (sql: string, params: readonly unknown[]) => {
        const statement = db.prepare(sql);
        return { rows: statement.reader ? statement.all(...params) : (statement.run(...params), []) };
      },
    };
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.serial(() => this.direct.all<T>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.serial(() => this.direct.run(sql, params));
  }

  raw(sql: string, params: readonly unknown[]): Promise<{ rows: unknown[] }> {
    return this.serial(() => this.direct.raw(sql, params));
  }

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this.direct);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue;
    this.db.close();
  }
}

export interface OpenedSqlite {
  readonly connection: SqlConnection;
  /** The database's tables before anything was written. */
  readonly tables: readonly string[];
  /** Sets the journal (WAL) and waits; called once the file is known to be a store of ours, never before. */
  readonly ready: () => void;
}

/** Opens (or, for writing, creates) the file; refuses what is not a file or not an SQLite database, untouched. */
export function openSqlite(file: string, readonly: boolean): OpenedSqlite {
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
  let tables: string[];
  try {
    tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  } catch (error) {
    db.close();
    throw refuse(
      file,
      `is not a mode result store (not an SQLite database: ${(error as Error).message})`,
      'choose another --store; the file was left as it is',
    );
  }
  const ready = (): void => {
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      // FULL: a committed cell survives a power cut too, not only a killed process; a cell commits once, so the cost is nil.
      db.pragma('synchronous = FULL');
    }
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  };
  return { connection: new SqliteConnection(db), tables, ready };
}

/** One sweep at a time per store file: a lock file holding the owner's pid (a dead owner's lock is taken over). */
export function lockSqliteStore(file: string): () => void {
  const lock = `${path.resolve(file)}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new ModeError(
          'usage',
          `result store ${file} is in use by a running sweep (process ${owner}); wait for it to finish, ` +
            `or delete ${lock} if that process is not a mode experiment`,
        );
      }
      unlinkSync(lock);
    }
  }
  throw new ModeError('io', `cannot take the lock ${lock}; delete it if no sweep is running`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process nobody has reaped yet (a zombie) still answers signal 0: on Linux, ask /proc.
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return true;
  }
}
