/**
 * The queue of cells for sweeps across machines: pg-boss (a job queue kept in PostgreSQL, schema
 * `pgboss`) in the same database as the result store, so that a job's completion and its cell's rows
 * commit in one transaction. Each cell is one job whose id is derived from the cell's key, so that two
 * `mode experiment --enqueue` racing on a store queue it once. Jobs keep the plan's order (as pg-boss
 * priorities), a model at a time in turn, so that workers starting together train different models.
 *
 * pg-boss 10 (the last to run on Node 20) has no heartbeats, so workers keep their own: each job a
 * worker fetched is claimed in `claims` in the same transaction as the fetch, the worker refreshes
 * its claims every few seconds, and any worker gives back (fails, to be retried) the jobs whose
 * claims went stale: a worker killed with -9, or a machine lost, loses its cells to the others within
 * CLAIM_TIMEOUT_S.
 */
import { createHash } from 'node:crypto';
import type PgBoss from 'pg-boss';
import { ModeError } from '../core/errors.js';
import type { Cell, CellFilter, ExperimentConfig } from './experiment-config.js';
import { storeLocation } from './store-location.js';
import type { SqlRunner } from './store-sql.js';
import { ResultStore } from './store.js';
import { planSweep, type SweepPlan } from './sweep-plan.js';

const CELL_QUEUE = 'mode-cells';
/** Attempts of a cell after its first (a failing cell, or one whose worker died). */
const RETRY_LIMIT = 3;
/** pg-boss's own expiry of an active job: a safety net far above any cell (claims act first). */
const EXPIRE_SECONDS = 12 * 3600;
/** A claim not refreshed for this long is given back to the queue. */
const CLAIM_TIMEOUT_S = 20;
/** How often a worker refreshes its claims and looks for stale ones. */
export const BEAT_INTERVAL_MS = 3_000;

/**
 * A job's data: the cell as JSON text, not as an object, since pg-boss keeps data as JSONB, which
 * reorders keys, and a cell's config is stored as the text its worker reads (the same bytes as in SQLite).
 */
export interface CellJobData {
  readonly cell: string;
}

export const jobCell = (job: PgBoss.Job<CellJobData>): Cell => JSON.parse(job.data.cell) as Cell;

/**
 * Opens the store, then pg-boss on its database (installing its schema the first time); fails with
 * one line where the store is not PostgreSQL, before anything is written.
 */
export async function openQueue(store: string, command: string): Promise<{ store: ResultStore; boss: PgBoss }> {
  const location = storeLocation(store);
  if (location.kind !== 'postgres')
    throw new ModeError(
      'usage',
      `${command} needs a PostgreSQL --store (postgres://user:pass@host:port/db), where the queue and the results live together; ` +
        `${location.file} is an SQLite file (run \`mode experiment\` without --enqueue on one machine)`,
    );
  const opened = await ResultStore.open(store);
  try {
    return { store: opened, boss: await startBoss(location.url) };
  } catch (error) {
    await opened.close();
    throw error;
  }
}

async function startBoss(url: string | null): Promise<PgBoss> {
  // pg-boss loads here, not with every `mode` command.
  const { default: Boss } = await import('pg-boss');
  const boss = new Boss({
    ...(url === null ? {} : { connectionString: url }),
    schema: 'pgboss',
    max: 3,
    schedule: false,
    supervise: true,
    maintenanceIntervalSeconds: 60,
  });
  boss.on('error', (error: Error) => process.stderr.write(`mode: queue: ${error.message}\n`));
  await boss.start();
  await boss.createQueue(CELL_QUEUE, { name: CELL_QUEUE, policy: 'standard', retryLimit: RETRY_LIMIT, expireInSeconds: EXPIRE_SECONDS });
  return boss;
}

/** A cell's job id: a UUID made from its key, the same on every machine. */
function cellJobId(key: string): string {
  const h = createHash('sha256').update(`mode-cell:${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Queues the cells not queued yet, in order (first = highest priority); a cell whose job failed for
 * good is queued again. Resolves to how many were queued and how many were already there.
 */
async function enqueueCells(boss: PgBoss, cells: readonly Cell[]): Promise<{ queued: number; already: number }> {
  let queued = 0;
  for (const [i, cell] of cells.entries()) {
    const id = cellJobId(cell.key);
    const sent = await boss.send(CELL_QUEUE, { cell: JSON.stringify(cell) } satisfies CellJobData, { id, priority: cells.length - i });
    if (sent !== null) {
      queued += 1;
      continue;
    }
    const job = await boss.getJobById(CELL_QUEUE, id);
    if (job !== null && (job.state === 'failed' || job.state === 'cancelled')) {
      await boss.retry(CELL_QUEUE, id);
      queued += 1;
    }
  }
  return { queued, already: cells.length - queued };
}

/**
 * The plan's cells taken a model at a time in turn (the first cell of each model, then the second of
 * each, ...), so that workers starting together train different initial models at once instead of
 * waiting for one.
 */
function interleaveByModel(cells: readonly Cell[]): Cell[] {
  const groups = new Map<string, Cell[]>();
  for (const cell of cells) groups.set(cell.modelKey, [...(groups.get(cell.modelKey) ?? []), cell]);
  const order: Cell[] = [];
  for (let i = 0; order.length < cells.length; i++) for (const group of groups.values()) if (i < group.length) order.push(group[i]!);
  return order;
}

/** pg-boss running its statements in the store's transaction. */
const inTransaction = (tx: SqlRunner): { db: PgBoss.Db } => ({
  db: { executeSql: (text: string, values: unknown[]) => tx.raw(text, values) } as PgBoss.Db,
});

/** Jobs of the queue that are waiting (created or to retry) or running. */
export async function openJobs(store: ResultStore): Promise<number> {
  return store.transaction(async (tx) => {
    const rows = (
      await tx.raw("SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry', 'active')", [CELL_QUEUE])
    ).rows as { n: number }[];
    return rows[0]!.n;
  });
}

/** Fetches up to `count` jobs and claims them for `worker`, in one transaction. */
export async function claimJobs(boss: PgBoss, store: ResultStore, worker: string, count: number): Promise<PgBoss.Job<CellJobData>[]> {
  return store.transaction(async (tx) => {
    const jobs = await boss.fetch<CellJobData>(CELL_QUEUE, { batchSize: count, ...inTransaction(tx) });
    for (const job of jobs)
      await tx.run(
        'INSERT INTO claims (job_id, cell_key, worker) VALUES (?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET worker = excluded.worker, beat_at = now()',
        [job.id, jobCell(job).key, worker],
      );
    return jobs;
  });
}

/** Ends a claimed job, in the caller's transaction: completed (its cell is stored) or failed (to be retried). */
export async function settleJob(
  boss: PgBoss,
  tx: SqlRunner,
  id: string,
  outcome: { ok: true } | { ok: false; message: string },
): Promise<void> {
  if (outcome.ok) await boss.complete(CELL_QUEUE, id, {}, inTransaction(tx));
  else await boss.fail(CELL_QUEUE, id, { message: outcome.message }, inTransaction(tx));
  await tx.run('DELETE FROM claims WHERE job_id = ?', [id]);
}

/**
 * Refreshes this worker's claims, then gives back the jobs whose claims went stale (their worker is
 * gone) and the running jobs nobody claims; resolves to the keys of the cells given back.
 */
export async function beat(boss: PgBoss, store: ResultStore, worker: string): Promise<string[]> {
  return store.transaction(async (tx) => {
    await tx.run('UPDATE claims SET beat_at = now() WHERE worker = ?', [worker]);
    const stale = (
      await tx.raw(`SELECT job_id, cell_key FROM claims WHERE beat_at < now() - make_interval(secs => $1) FOR UPDATE SKIP LOCKED`, [
        CLAIM_TIMEOUT_S,
      ])
    ).rows as { job_id: string; cell_key: string }[];
    const unclaimed = (
      await tx.raw(
        "SELECT id::text AS job_id FROM pgboss.job WHERE name = $1 AND state = 'active' AND started_on < now() - make_interval(secs => $2) " +
          'AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.job_id = pgboss.job.id::text)',
        [CELL_QUEUE, CLAIM_TIMEOUT_S],
      )
    ).rows as { job_id: string }[];
    const ids = [...stale.map((r) => r.job_id), ...unclaimed.map((r) => r.job_id)];
    if (ids.length === 0) return [];
    for (const id of ids)
      await boss.fail(CELL_QUEUE, id, { message: `its worker stopped answering for ${CLAIM_TIMEOUT_S} s` }, inTransaction(tx));
    for (const r of stale) await tx.run('DELETE FROM claims WHERE job_id = ?', [r.job_id]);
    return stale.map((r) => r.cell_key);
  });
}

export interface EnqueueResult {
  readonly plan: SweepPlan;
  /** Cells queued now. */
  readonly queued: number;
  /** Missing cells that were queued already (by an earlier or a racing enqueue). */
  readonly already: number;
}

/** `mode experiment --enqueue`: plans the grid against the store and queues the missing cells for `mode worker`. */
export async function enqueueExperiment(
  config: ExperimentConfig,
  options: { readonly store: string; readonly where?: CellFilter },
): Promise<EnqueueResult> {
  const { store, boss } = await openQueue(options.store, 'mode experiment --enqueue');
  try {
    const plan = planSweep(config, options.store, {
      doneKeys: await store.doneKeys(),
      ...(options.where === undefined ? {} : { where: options.where }),
    });
    await store.recordRun(config, plan.cells.length);
    return { plan, ...(await enqueueCells(boss, interleaveByModel(plan.missing))) };
  } finally {
    await boss.stop({ graceful: false, wait: true });
    await store.close();
  }
}
