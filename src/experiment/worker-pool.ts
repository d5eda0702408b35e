/**
 * A pool of sweep worker processes (worker.ts, node:child_process fork, one engine each). It asks its
 * source for the next request whenever a worker is idle, sends it over IPC, and hands each reply (or
 * a crash) back. A worker that dies is replaced while work remains; workers that keep dying before
 * they are ready (no engine) end the pool instead of being respawned forever.
 *
 * Workers are replaced by fresh ones to keep their memory down (a process keeps native memory that
 * its allocator does not give back, and its peaks creep up over many cells): a worker whose next
 * piece of work is of another group (a sweep's kind of model) than its last, and a worker whose peak resident
 * memory has passed a limit after its job. A fresh worker costs about a second and a half of start-up.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { computeProcessEnv } from '../core/process-env.js';
import type { WorkerReply, WorkerRequest, WorkerTask } from './worker.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));
/** Lines of a worker's stderr kept to explain a crash. */
const STDERR_TAIL_LINES = 20;
/** How long a worker may take to exit once disconnected before it is killed, ms. */
const WORKER_EXIT_GRACE_MS = 5_000;
/** Workers that die before they are ready, after which the pool gives up instead of respawning. */
const MAX_START_FAILURES = 3;
/**
 * The peak resident memory, MiB, past which a worker is replaced after its job. In the `buggy`
 * preset a worker that runs 80 CNN cells in a row peaks at about 900 MiB, its first cell at about 850.
 * Not lower: a fresh worker faults its memory in anew, and its first cells run slower for it.
 */
export const DEFAULT_RESTART_ABOVE_MIB = 930;

/** A worker's answer to a request: its reply, or the crash that ended it mid-request. */
export type Outcome = Extract<WorkerReply, { type: 'done' | 'failed' }> | { readonly type: 'crashed'; readonly message: string };

/**
 * What the pool works through. `next` may return null while work is still running elsewhere. A
 * request may be built asynchronously (read from the store), and a piece of work counts as running
 * until the promise `finished` returns settles (its result is written).
 */
export interface PoolSource<T> {
  /**
   * The next piece of work and its request, or null when nothing can start now. Work of one `group`
   * (a sweep's kind of model) shares a worker; work of another goes to a fresh one.
   */
  next(): { readonly work: T; readonly task: WorkerTask | Promise<WorkerTask>; readonly group?: string } | null;
  /** A piece of work ended. */
  finished(work: T, outcome: Outcome): void | Promise<void>;
  /** Whether work is left (queued or running): the pool ends when there is none. */
  busy(): boolean;
  /** Called when no worker is busy and nothing can start: the source fails what can never run. */
  idle(): void;
  /** Workers cannot start: the source gives up on what is queued. */
  cannotStart(reason: string): void;
  /** Receives the pool's dispatch, for a source whose work arrives later (a queue): it calls it when there is some. */
  wakeWith?(wake: () => void): void;
}

export interface PoolOptions {
  readonly size: number;
  /** Engine name for the workers. */
  readonly engine: string;
  /** Intra-op threads per worker (the torch engine's; wasm keeps its default). */
  readonly threads: number;
  /** A worker is ready on this engine; failing here (an engine the store refuses) stops the pool with that error. */
  readonly onReady: (engine: string) => void | Promise<void>;
  /**
   * Replaces a worker once its peak resident memory passes this many MiB (DEFAULT_RESTART_ABOVE_MIB),
   * and at a new group; 0: never.
   */
  readonly restartAboveMiB?: number;
}

export interface PoolResult {
  /** Workers replaced by fresh ones (at a new group or for their memory). */
  readonly restarted: number;
}

/** Work taken from the source, its request settled to a value (so that a request failing while the work waits is not unhandled). */
interface Taken<T> {
  readonly work: T;
  readonly group: string | undefined;
  readonly task: Promise<{ readonly task: WorkerTask } | { readonly error: unknown }>;
}

interface Slot<T> {
  readonly child: ChildProcess;
  ready: boolean;
  job: { readonly id: number; readonly work: T } | null;
  /** The group of its last job (undefined: none yet). */
  group: string | undefined;
  readonly stderr: string[];
  exited: boolean;
}

/** Runs the source's work on `size` worker processes until none is left; rejects with the first onReady error. */
export async function runPool<T>(source: PoolSource<T>, options: PoolOptions): Promise<PoolResult> {
  const restartAbove = options.restartAboveMiB ?? DEFAULT_RESTART_ABOVE_MIB;
  const slots: Slot<T>[] = [];
  /** Workers replaced by fresh ones (retire), each as it exits. */
  const retired: Promise<void>[] = [];
  /** Retired workers not yet replaced: dispatch starts their successors while work remains. */
  let toReplace = 0;
  /** Work taken for a worker that was retired instead (another group): the next fresh worker takes it. */
  const waiting: Taken<T>[] = [];
  let nextId = 0;
  let startFailures = 0;
  let fatal: Error | null = null;
  /** Results being written: the pool is not idle while one is. */
  let writing = 0;
  await new Promise<void>((resolve) => {
    const take = (): Taken<T> | null => {
      const next = source.next();
      if (next === null) return null;
      const task = Promise.resolve(next.task).then(
        (request) => ({ task: request }),
        (error: unknown) => ({ error }),
      );
      return { work: next.work, group: next.group, task };
    };
    const assign = (slot: Slot<T>, taken: Taken<T>): void => {
      const job = { id: nextId++, work: taken.work };
      slot.job = job;
      slot.group = taken.group;
      void taken.task.then((prepared) => {
        if (slot.job !== job) return;
        if ('task' in prepared) {
          if (!slot.exited) slot.child.send({ ...prepared.task, id: job.id } satisfies WorkerRequest);
          return;
        }
        slot.job = null;
        const message = `could not prepare the job: ${(prepared.error as Error).message}`;
        finish(job.work, { type: 'failed', id: job.id, message, seconds: 0, peakMiB: 0 });
      });
    };
    const replenish = (): void => {
      for (; toReplace > 0 && fatal === null && source.busy(); toReplace--) spawn();
    };
    const dispatch = (): void => {
      replenish();
      for (const slot of [...slots]) {
        if (!slot.ready || slot.job !== null || slot.exited || fatal !== null) continue;
        const taken = waiting.shift() ?? take();
        if (taken === null) break;
        if (restartAbove > 0 && slot.group !== undefined && taken.group !== slot.group) {
          waiting.unshift(taken);
          retire(slot);
          continue;
        }
        assign(slot, taken);
      }
      replenish();
      if (fatal === null && writing === 0 && waiting.length === 0 && slots.every((s) => s.job === null)) source.idle();
      if (fatal !== null || (writing === 0 && !source.busy())) resolve();
    };
    /** Hands an outcome to the source and dispatches again once the source has taken it in. */
    const finish = (work: T, outcome: Outcome): void => {
      writing += 1;
      Promise.resolve()
        .then(() => source.finished(work, outcome))
        .catch((error: unknown) => {
          fatal ??= error instanceof Error ? error : new Error(String(error));
        })
        .finally(() => {
          writing -= 1;
          dispatch();
        });
    };
    const spawn = (): void => {
      const child = fork(WORKER_SCRIPT, [options.engine, String(options.threads)], {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
        env: computeProcessEnv(),
        // Lets the worker free large typed arrays as soon as a repair drops them (collectGarbage).
        execArgv: [...process.execArgv, '--expose-gc'],
      });
      const slot: Slot<T> = { child, ready: false, job: null, group: undefined, stderr: [], exited: false };
      slots.push(slot);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        slot.stderr.push(...chunk.split('\n').filter((l) => l.trim() !== ''));
        slot.stderr.splice(0, Math.max(0, slot.stderr.length - STDERR_TAIL_LINES));
      });
      child.on('message', (reply: WorkerReply) => {
        if (reply.type === 'ready') {
          writing += 1;
          Promise.resolve()
            .then(() => options.onReady(reply.engine))
            .then(
              () => {
                slot.ready = true;
              },
              (error: unknown) => {
                fatal ??= error instanceof Error ? error : new Error(String(error));
              },
            )
            .finally(() => {
              writing -= 1;
              dispatch();
            });
          return;
        }
        if (slot.job !== null && slot.job.id === reply.id) {
          const { work } = slot.job;
          slot.job = null;
          if (restartAbove > 0 && reply.peakMiB > restartAbove) retire(slot);
          finish(work, reply);
          return;
        }
        dispatch();
      });
      const gone = (why: string): void => {
        if (slot.exited) return;
        slot.exited = true;
        slots.splice(slots.indexOf(slot), 1);
        const job = slot.job;
        slot.job = null;
        const tail = slot.stderr.at(-1);
        if (job !== null) finish(job.work, { type: 'crashed', message: `worker ${why}${tail === undefined ? '' : `: ${tail}`}` });
        if (!slot.ready) startFailures += 1;
        if (startFailures >= MAX_START_FAILURES) {
          const reason = `workers cannot start (${why}${tail === undefined ? '' : `: ${tail}`})`;
          for (const taken of waiting.splice(0)) finish(taken.work, { type: 'crashed', message: reason });
          source.cannotStart(reason);
        } else if (source.busy() && fatal === null) spawn();
        dispatch();
      };
      child.on('exit', (code, signal) => gone(signal !== null ? `killed by ${signal}` : `exited with code ${code}`));
      child.on('error', (error) => gone(`failed: ${error.message}`));
    };
    /** Lets an idle worker exit; dispatch starts a fresh one in its place while work remains (replenish). */
    const retire = (slot: Slot<T>): void => {
      slot.exited = true;
      slots.splice(slots.indexOf(slot), 1);
      retired.push(stopWorker(slot.child));
      toReplace += 1;
    };
    source.wakeWith?.(dispatch);
    for (let i = 0; i < options.size; i++) spawn();
    // A source with nothing left to run resolves at once.
    dispatch();
  });
  // Everything is finished: workers exit when their IPC channel closes.
  await Promise.all([...slots.map((s) => stopWorker(s.child)), ...retired]);
  if (fatal !== null) throw fatal;
  return { restarted: retired.length };
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, WORKER_EXIT_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.disconnect();
  });
}
