/**
 * The selection study: repairs of starved-label models over many seeds, every strategy from the same
 * initial model per seed, then means with 95% CIs and paired tests against the random control and
 * against targeted-random. Defaults are chosen on VALIDATION figures only; test figures are reported.
 * Every strategy spends the whole budget (no early stop unless --early-stop), so differences are at
 * equal budget. Resumable: a seed's model and repair already on disk are reused.
 *
 *   node dist/bench/study.js --model mlp --seeds 1-5 --batch 200 --out runs/study
 *   node dist/bench/study.js --aggregate --out runs/study --tag mlp-b200   (tables only)
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  comparePaired,
  createEngine,
  parseScenario,
  parseRepairDoc,
  parseStrategy,
  repairModel,
  resolveTrainConfig,
  saveModelFolder,
  summarizeValues,
  trainModel,
  type Engine,
  writeOutputFolder,
} from '../src/index.js';

const DEFAULT_STRATEGIES = 'mode:contrast,mode:dhm,mode:dhm:least,mode:hm,mode:hc:least,targeted-random,targeted-uncertainty,entropy';

function seedList(text: string): number[] {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (m !== null) return Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, i) => Number(m[1]) + i);
  return text.split(',').map(Number);
}

async function ensureModel(engine: Engine, dir: string, config: ReturnType<typeof resolveTrainConfig>): Promise<void> {
  if (existsSync(path.join(dir, 'manifest.json'))) return;
  const result = await trainModel(config, { engine });
  await writeOutputFolder(dir, false, (d) => saveModelFolder(d, result.model, result.manifest, result.metrics));
  result.model.dispose();
}

function aggregate(out: string, tag: string): Record<string, unknown> {
  const files = readdirSync(out)
    .filter((d) => existsSync(path.join(out, d, `repair-${tag}.json`)))
    .map((d) => path.join(out, d, `repair-${tag}.json`));
  const runs = files.map((f) => parseRepairDoc(readFileSync(f, 'utf8'), f)).sort((a, b) => a.seed - b.seed);
  if (runs.length === 0) throw new Error(`no repair-${tag}.json under ${out}`);
  const starved = runs[0]!.scenarios
    .map((s) => s.split(' '))
    .flatMap(([kind, text]) => {
      const sc = parseScenario(kind!, text!);
      return sc.kind === 'starve' ? [...sc.labels] : sc.kind === 'noise' ? [sc.label] : [];
    });
  // A label without inputs has recall NaN, which JSON wrote as null.
  const meanOf = (perLabel: readonly (number | null)[]): number => starved.reduce((s, l) => s + (perLabel[l] ?? NaN), 0) / starved.length;
  // Only strategies present in every seed's run can be paired; others are named and left out.
  const names = runs[0]!.arms.map((a) => a.name).filter((name) => runs.every((r) => r.arms.some((a) => a.name === name)));
  const partial = [...new Set(runs.flatMap((r) => r.arms.map((a) => a.name)))].filter((name) => !names.includes(name));
  type Figures = {
    valStarved: number[];
    valAcc: number[];
    testStarved: number[];
    testAcc: number[];
    alreadyCorrect: number[];
    iterations: number[];
    /** The control's figures after as many iterations as this strategy ran (an arm that finished early is compared at equal budget). */
    controlValStarved: number[];
    controlTestStarved: number[];
  };
  const figures = new Map<string, Figures>();
  for (const name of names) {
    const f: Figures = {
      valStarved: [],
      valAcc: [],
      testStarved: [],
      testAcc: [],
      alreadyCorrect: [],
      iterations: [],
      controlValStarved: [],
      controlTestStarved: [],
    };
    for (const run of runs) {
      const arm = run.arms.find((a) => a.name === name)!;
      const control = run.arms.find((a) => a.name === 'control')!;
      const at = (a: typeof arm, n: number) =>
        n === 0 ? { validation: run.initial.validation, test: run.initial.test } : a.iterations[Math.min(n, a.iterations.length) - 1]!;
      const last = at(arm, arm.iterations.length);
      const matched = at(control, arm.iterations.length);
      f.valStarved.push(meanOf(last.validation.perLabel));
      f.valAcc.push(last.validation.accuracy ?? NaN);
      f.testStarved.push(meanOf(last.test.perLabel));
      f.testAcc.push(last.test.accuracy ?? NaN);
      f.iterations.push(arm.iterations.length);
      f.controlValStarved.push(meanOf(matched.validation.perLabel));
      f.controlTestStarved.push(meanOf(matched.test.perLabel));
      const shares = arm.iterations.map((it) => it.shareAlreadyCorrectTargeted ?? null).filter((v): v is number => v !== null);
      f.alreadyCorrect.push(shares.length === 0 ? NaN : shares.reduce((a, b) => a + b, 0) / shares.length);
    }
    figures.set(name, f);
  }
  const initialValStarved = runs.map((r) => meanOf(r.initial.validation.perLabel));
  const initialTestStarved = runs.map((r) => meanOf(r.initial.test.perLabel));
  const fmt = (s: { mean: number; ci95: number }, d = 3): string =>
    `${s.mean.toFixed(d)} ± ${Number.isNaN(s.ci95) ? '-' : s.ci95.toFixed(d)}`;
  const pfmt = (p: number): string => (Number.isNaN(p) ? '-' : p < 0.001 ? '<0.001' : p.toFixed(3));
  const rows: Record<string, unknown>[] = [];
  const lines = [
    `study ${tag}: ${runs.length} seeds (${runs.map((r) => r.seed).join(', ')}), starved labels ${starved.join(', ')}; ` +
      `initial starved recall: validation ${fmt(summarizeValues(initialValStarved))}, test ${fmt(summarizeValues(initialTestStarved))}`,
    ...(partial.length > 0 ? [`left out (not run for every seed): ${partial.join(', ')}`] : []),
    '',
    'Δ vs random: against the control after the same number of iterations (paired by seed); p-values: paired t / Wilcoxon signed-rank.',
    '',
    '| strategy | iterations | val starved recall | val acc | Δ val starved vs random (p t / W) | ' +
      'Δ val starved vs targeted-random (p t / W) | test starved recall | test acc | Δ test starved vs random (p t / W) | ' +
      'Δ test starved vs targeted-random (p t / W) | targeted picks already correct |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const targeted = figures.get('targeted-random');
  for (const name of names) {
    const f = figures.get(name)!;
    const cmp = (a: number[], b: number[] | undefined): string => {
      if (b === undefined || a === b) return '-';
      const c = comparePaired(a, b);
      return `${c.meanDifference >= 0 ? '+' : ''}${c.meanDifference.toFixed(3)} (${pfmt(c.tTestP)} / ${pfmt(c.wilcoxonP)})`;
    };
    const share = f.alreadyCorrect.filter((v) => !Number.isNaN(v));
    const vsControl = (a: number[], b: number[]): string => (name === 'control' ? '-' : cmp(a, b));
    lines.push(
      `| ${name} | ${summarizeValues(f.iterations).mean.toFixed(1)} | ${fmt(summarizeValues(f.valStarved))} | ` +
        `${fmt(summarizeValues(f.valAcc), 4)} | ${vsControl(f.valStarved, f.controlValStarved)} | ` +
        `${cmp(f.valStarved, targeted?.valStarved)} | ` +
        `${fmt(summarizeValues(f.testStarved))} | ${fmt(summarizeValues(f.testAcc), 4)} | ` +
        `${vsControl(f.testStarved, f.controlTestStarved)} | ${cmp(f.testStarved, targeted?.testStarved)} | ` +
        `${share.length === 0 ? '-' : summarizeValues(share).mean.toFixed(2)} |`,
    );
    rows.push({
      strategy: name,
      validationStarved: summarizeValues(f.valStarved),
      validationAccuracy: summarizeValues(f.valAcc),
      testStarved: summarizeValues(f.testStarved),
      testAccuracy: summarizeValues(f.testAcc),
      iterations: summarizeValues(f.iterations),
      vsRandom: { validation: comparePaired(f.valStarved, f.controlValStarved), test: comparePaired(f.testStarved, f.controlTestStarved) },
      ...(targeted !== undefined
        ? {
            vsTargetedRandom: {
              validation: comparePaired(f.valStarved, targeted.valStarved),
              test: comparePaired(f.testStarved, targeted.testStarved),
            },
          }
        : {}),
      alreadyCorrectTargeted: share.length === 0 ? null : summarizeValues(share).mean,
    });
  }
  process.stdout.write(lines.join('\n') + '\n');
  return { tag, seeds: runs.map((r) => r.seed), starved, rows, markdown: lines.join('\n') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'mlp' },
      dataset: { type: 'string', default: 'mnist' },
      starve: { type: 'string', default: '3,8:0.02' },
      seeds: { type: 'string', default: '1-5' },
      batch: { type: 'string', default: '200' },
      iterations: { type: 'string', default: '5' },
      strategies: { type: 'string', default: DEFAULT_STRATEGIES },
      'layer-once': { type: 'boolean', default: false },
      'layer-selection': { type: 'string', default: 'saturation' },
      'early-stop': { type: 'boolean', default: false },
      out: { type: 'string', default: 'runs/study' },
      tag: { type: 'string' },
      aggregate: { type: 'boolean', default: false },
    },
  });
  const tag = values.tag ?? `${values.dataset}-${values.model}-b${values.batch}`;
  mkdirSync(values.out, { recursive: true });
  if (!values.aggregate) {
    const engine = await createEngine('wasm');
    const strategies = values.strategies.split(',').map((s) => parseStrategy(s));
    for (const seed of seedList(values.seeds)) {
      const dir = path.join(values.out, `${values.dataset}-${values.model}-s${seed}`);
      const file = path.join(dir, `repair-${tag}.json`);
      if (existsSync(file)) continue;
      const started = performance.now();
      await ensureModel(
        engine,
        path.join(dir, 'model'),
        resolveTrainConfig({ dataset: values.dataset, model: values.model, seed, scenarios: { starve: values.starve } }),
      );
      const run = await repairModel(path.join(dir, 'model'), engine, {
        strategy: strategies[0]!,
        compare: strategies.slice(1),
        batch: Number(values.batch),
        iterations: Number(values.iterations),
        seed,
        layerOnce: values['layer-once'],
        earlyStop: values['early-stop'],
        layerSelection: values['layer-selection'] as 'saturation',
      });
      writeFileSync(file, JSON.stringify(run.json));
      writeFileSync(path.join(dir, `manifest-${tag}.json`), JSON.stringify(run.manifest, null, 2));
      process.stderr.write(`seed ${seed}: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    }
  }
  const summary = aggregate(values.out, tag);
  const resultsDir = path.resolve('bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, `study-${tag}.json`), JSON.stringify(summary, null, 2) + '\n');
}

await main();
