/**
 * The few SQL operations a result store needs, the same on SQLite and PostgreSQL: statements with `?`
 * placeholders (the PostgreSQL connection numbers them), rows as plain objects, and transactions
 * whose work may branch on what it reads (all or nothing).
 */
export type SqlValue = string | number | null | Buffer;

export interface SqlRunner {
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs a statement written for this database as it is (PostgreSQL's `$1` placeholders): for a library sharing the transaction. */
  raw(sql: string, params: readonly unknown[]): Promise<{ rows: unknown[] }>;
}

export interface SqlConnection extends SqlRunner {
  readonly dialect: 'sqlite' | 'postgres';
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `?` to `$1, $2, ...` (our statements have no `?` inside literals). */
export const numberPlaceholders = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** Runs a schema's statements (separated by `;`) and writes the meta rows, in the caller's transaction. */
export async function writeSchema(tx: SqlRunner, schema: string, meta: readonly (readonly [string, string])[]): Promise<void> {
  for (const statement of schema.split(';').filter((s) => s.trim() !== '')) await tx.run(statement);
  for (const [key, value] of meta) await tx.run('INSERT INTO meta (key, value) VALUES (?, ?)', [key, value]);
}
