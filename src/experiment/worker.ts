/**
 * A sweep worker: a child process (node:child_process fork) with its own engine that trains initial
 * models and runs cells on request, one at a time, and reports back over IPC. It never touches the
 * result store: only the parent writes SQLite. It exits when its parent goes away, so killing the
 * parent, even with kill -9, leaves no workers behind: on the IPC channel's 'disconnect' when idle,
 * and mid-job through a watchdog thread (the compute never yields to the event loop, so the main
 * thread cannot notice) that kills the process once it has been reparented.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { collectGarbage } from '../core/memory.js';
import { writeOutputFolder } from '../core/output-folder.js';
import { createEngine, resolveEngineName, type Engine } from '../engine/index.js';
import { saveModelFolder } from '../model/model-folder.js';
import { resolveTrainConfig, trainModel } from '../model/train.js';
import type { TrainConfigInput } from '../model/train-config.js';
import type { RepairConfigInput } from './repair-config.js';
import type { ArmResult, RepairDocInput } from './repair-doc.js';
import { RepairCache, repairModel } from './repair-run.js';

/** What a worker does: train an initial model into a folder, or run one cell's repair (with a shared control arm, if one is stored). */
export type WorkerTask =
  | { readonly type: 'train'; readonly config: TrainConfigInput; readonly dir: string }
  | { readonly type: 'repair'; readonly modelDir: string; readonly input: RepairConfigInput; readonly control?: ArmResult };

export type WorkerRequest = WorkerTask & { readonly id: number };

/** How a job ended. */
type JobReply =
  | { readonly type: 'done'; readonly id: number; readonly seconds: number; readonly json?: RepairDocInput; readonly control?: ArmResult }
  | { readonly type: 'failed'; readonly id: number; readonly seconds: number; readonly message: string };

/** A job's reply carries the worker's peak resident memory so far, MiB (getrusage's maximum resident set size). */
export type WorkerReply = { readonly type: 'ready'; readonly engine: string } | (JobReply & { readonly peakMiB: number });

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

/** How often the watchdog thread checks that the parent is alive, ms. */
const WATCHDOG_INTERVAL_MS = 500;

function startWatchdog(): void {
  const source = `const { workerData } = require('node:worker_threads');
    setInterval(() => { if (process.ppid !== workerData.parent) process.kill(workerData.pid, 'SIGKILL'); }, ${WATCHDOG_INTERVAL_MS});`;
  new Worker(source, { eval: true, workerData: { parent: process.ppid, pid: process.pid } }).unref();
}

/** The model of the worker's last cell, kept for the next: a sweep runs a model's cells one after another. */
const cache = new RepairCache();

async function handle(engine: Engine, request: WorkerRequest): Promise<JobReply> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  try {
    if (request.type === 'train') {
      const result = await trainModel(resolveTrainConfig(request.config), { engine });
      try {
        await writeOutputFolder(request.dir, false, (dir) => saveModelFolder(dir, result.model, result.manifest, result.metrics));
      } catch (error) {
        // Training is deterministic: a folder another process finished meanwhile is the same model.
        if (!existsSync(path.join(request.dir, 'manifest.json'))) throw error;
      } finally {
        result.model.dispose();
      }
      return { type: 'done', id: request.id, seconds: seconds() };
    }
    const run = await repairModel(path.resolve(request.modelDir), engine, request.input, {
      cache,
      ...(request.control === undefined ? {} : { control: request.control }),
    });
    // A control computed here goes back to the parent, which shares it with the other cells of its key.
    const control = request.control === undefined ? run.result.arms.find((a) => a.control) : undefined;
    return { type: 'done', id: request.id, seconds: seconds(), json: run.json, ...(control === undefined ? {} : { control }) };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    return { type: 'failed', id: request.id, seconds: seconds(), message };
  }
}

async function main(): Promise<void> {
  if (process.send === undefined) {
    process.stderr.write('mode experiment worker: start me with child_process.fork (I talk over IPC)\n');
    process.exitCode = 2;
    return;
  }
  process.on('disconnect', () => process.exit(0));
  startWatchdog();
  // argv: engine name, then intra-op threads per worker (the cores shared out among the workers; torch only, wasm keeps its default).
  const name = await resolveEngineName(process.argv[2] ?? 'wasm');
  const threads = Number(process.argv[3]);
  const engine = await createEngine(name, name === 'torch' && Number.isInteger(threads) && threads >= 1 ? { threads } : {});
  let queue = Promise.resolve();
  process.on('message', (request: WorkerRequest) => {
    queue = queue.then(async () => {
      send({ ...(await handle(engine, request)), peakMiB: process.resourceUsage().maxRSS / 1024 });
      collectGarbage(); // what the job left behind, before the next one allocates
    });
  });
  send({ type: 'ready', engine: engine.info.name });
}

await main();
