/**
 * The PostgreSQL side of the result store: the same tables as the SQLite file, in their own schema
 * (`mode`) of the database the URL names (or the PG* environment variables), with the initial
 * models' files in the database too (model_files), so that workers on other machines use the model
 * one machine trained, and the queue's claims (which worker runs which job, and when it last said it
 * was alive: queue.ts). A database that cannot be reached, refuses the credentials, or holds another
 * program's tables is refused with one line before anything is written.
 */
import type pg from 'pg';
import { ModeError } from '../core/errors.js';
import { numberPlaceholders, writeSchema, type SqlConnection, type SqlRunner, type SqlValue } from './store-sql.js';

/** Our schema; pg-boss keeps its queue in its own (`pgboss`). */
const PG_SCHEMA = 'mode';
const QUEUE_SCHEMA = 'pgboss';
/** Advisory lock ids: creating the tables, and one local sweep at a time. */
const CREATE_LOCK = 7_246_031_001;
const SWEEP_LOCK = 7_246_031_002;
const CONNECT_TIMEOUT_MS = 10_000;

const POSTGRES_SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (id BIGSERIAL PRIMARY KEY, started_at TEXT NOT NULL, tool_version TEXT NOT NULL, config TEXT NOT NULL, cells INTEGER NOT NULL);
CREATE TABLE models (key TEXT PRIMARY KEY, config TEXT NOT NULL, path TEXT NOT NULL, seconds DOUBLE PRECISION, finished_at TEXT NOT NULL);
CREATE TABLE model_files (
  model_key TEXT NOT NULL REFERENCES models(key) ON DELETE CASCADE, name TEXT NOT NULL, bytes BYTEA NOT NULL, PRIMARY KEY (model_key, name)
);
CREATE TABLE controls (
  key TEXT PRIMARY KEY, model_key TEXT NOT NULL, arm TEXT NOT NULL, seconds DOUBLE PRECISION NOT NULL, finished_at TEXT NOT NULL
);
CREATE TABLE cells (
  seq BIGSERIAL UNIQUE, key TEXT PRIMARY KEY, model_key TEXT NOT NULL, label TEXT NOT NULL, config TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status = 'done'), result TEXT NOT NULL, seconds DOUBLE PRECISION NOT NULL, finished_at TEXT NOT NULL
);
CREATE TABLE iterations (
  cell_key TEXT NOT NULL REFERENCES cells(key), arm TEXT NOT NULL, iteration INTEGER NOT NULL, target_label INTEGER,
  validation_accuracy DOUBLE PRECISION NOT NULL, test_accuracy DOUBLE PRECISION NOT NULL, per_label TEXT NOT NULL,
  share_already_correct DOUBLE PRECISION, PRIMARY KEY (cell_key, arm, iteration)
);
CREATE TABLE failures (
  id BIGSERIAL PRIMARY KEY, cell_key TEXT NOT NULL, label TEXT NOT NULL, message TEXT NOT NULL, seconds DOUBLE PRECISION, failed_at TEXT NOT NULL
);
CREATE TABLE claims (job_id TEXT PRIMARY KEY, cell_key TEXT NOT NULL, worker TEXT NOT NULL, beat_at TIMESTAMPTZ NOT NULL DEFAULT now());
`;

const runner = (client: pg.Pool | pg.PoolClient): SqlRunner => ({
  all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await client.query(numberPlaceholders(sql), [...params])).rows as T[],
  run: async (sql: string, params: readonly SqlValue[] = []) => (await client.query(numberPlaceholders(sql), [...params])).rowCount ?? 0,
  raw: async (sql: string, params: readonly unknown[]) => client.query(sql, [...params]),
});

class PostgresConnection implements SqlConnection {
  readonly dialect = 'postgres';
  private readonly direct: SqlRunner;

  constructor(readonly pool: pg.Pool) {
    this.direct = runner(pool);
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.direct.all<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }

  raw(sql: string, params: readonly unknown[]): Promise<{ rows: unknown[] }> {
    return this.direct.raw(sql, params);
  }

  async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(runner(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export interface OpenedPostgres {
  readonly connection: SqlConnection & { readonly pool: pg.Pool };
  /** Our tables (schema `mode`). */
  readonly tables: readonly string[];
  /** Tables that are neither ours nor our queue's, as schema.table. */
  readonly foreign: readonly string[];
}

/** What a failed connection means, in one line with the way out. */
function connectError(shown: string, error: unknown): ModeError {
  const e = error as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = e.code ?? e.errors?.[0]?.code;
  const message = e.message || (e.errors === undefined ? String(error) : `${code ?? 'connection failed'}`);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' || /timeout/i.test(message))
    return new ModeError(
      'io',
      `cannot reach the PostgreSQL server of ${shown} (${code ?? message}); start it, or check the host and port in --store`,
    );
  if (code === '28P01' || code === '28000')
    return new ModeError(
      'io',
      `PostgreSQL refused the credentials for ${shown} (${message}); check the user and password in --store or PGUSER/PGPASSWORD`,
    );
  if (code === '3D000') return new ModeError('io', `${shown}: ${message}; create it first (createdb), or name another database in --store`);
  return new ModeError('io', `cannot open the PostgreSQL store ${shown} (${message})`);
}

export async function openPostgres(url: string | null, shown: string, readonly: boolean): Promise<OpenedPostgres> {
  // pg loads here, not with every `mode` command.
  const { Pool } = (await import('pg')).default;
  const pool = new Pool({
    ...(url === null ? {} : { connectionString: url }),
    max: 4,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    options: `-c search_path=${PG_SCHEMA}${readonly ? ' -c default_transaction_read_only=on' : ''}`,
  });
  // An idle connection the server drops (a restart) must not crash the process; the next query reconnects or fails.
  pool.on('error', () => undefined);
  try {
    const rows = (
      await pool.query<{ schema: string; name: string }>(
        "SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_type = 'BASE TABLE' " +
          "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
      )
    ).rows;
    return {
      connection: new PostgresConnection(pool),
      tables: rows.filter((r) => r.schema === PG_SCHEMA).map((r) => r.name),
      foreign: rows.filter((r) => r.schema !== PG_SCHEMA && r.schema !== QUEUE_SCHEMA).map((r) => `${r.schema}.${r.name}`),
    };
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw connectError(shown, error);
  }
}

/**
 * Creates our schema and tables and writes the meta rows, once: two processes creating the same store
 * at the same moment take turns, and the second finds the first's tables (returns false).
 */
export async function createPostgresTables(connection: SqlConnection, meta: readonly [string, string][]): Promise<boolean> {
  return connection.transaction(async (tx) => {
    await tx.all('SELECT pg_advisory_xact_lock(?)', [CREATE_LOCK]);
    const exists = await tx.all("SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = 'meta'", [PG_SCHEMA]);
    if (exists.length > 0) return false;
    await tx.run(`CREATE SCHEMA IF NOT EXISTS ${PG_SCHEMA}`);
    await writeSchema(tx, POSTGRES_SCHEMA, meta);
    return true;
  });
}

/** A session advisory lock on its own connection (released with it, so a killed holder releases it too), or null when taken. */
async function tryAdvisoryLock(pool: pg.Pool, id: number | string): Promise<(() => Promise<void>) | null> {
  const client = await pool.connect();
  const key = typeof id === 'number' ? 'pg_try_advisory_lock($1)' : 'pg_try_advisory_lock(hashtextextended($1, 0))';
  const got = (await client.query<{ ok: boolean }>(`SELECT ${key} AS ok`, [id])).rows[0]!.ok;
  if (!got) {
    client.release();
    return null;
  }
  return async () => {
    // Releasing the connection with the lock still held would leave it held in the pool: end it instead.
    client.release(true);
  };
}

/** A lock of a name (an initial model being trained) across every process on the database, or null when taken. */
export const tryPostgresLock = (pool: pg.Pool, name: string): Promise<(() => Promise<void>) | null> => tryAdvisoryLock(pool, name);

/** One local sweep at a time per database: a session advisory lock, held on its own connection. */
export async function lockPostgresStore(pool: pg.Pool, shown: string): Promise<() => Promise<void>> {
  const release = await tryAdvisoryLock(pool, SWEEP_LOCK);
  if (release === null) {
    throw new ModeError(
      'usage',
      `result store ${shown} is in use by a running \`mode experiment\` (on this machine or another); wait for it to finish`,
    );
  }
  return release;
}
