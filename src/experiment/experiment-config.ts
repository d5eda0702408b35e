/**
 * The configuration of an experiment (docs/method.md section 9, issue 7): a grid over datasets, class
 * subsets, bug scenarios, models, training sizes, epochs, seeds, selection strategies (crossed with
 * metrics and score spaces for mode), layer selection rules, alphas, batches, iterations and
 * retraining regimes. Defined once as a zod schema; `expandCells` turns it into a deterministic list
 * of cells, each one repair (`repairModel`) with its control, keyed by a hash of its resolved config.
 *
 * Settings a strategy does not use are resolved to null ("not applicable"), so a grid never holds two
 * cells that would compute the same thing: random selection does not depend on the layer selection
 * rule, an untargeted strategy not on alpha, a non-mode strategy not on a metric.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  DEFAULT_GAMMA,
  DEFAULT_HEAD_ROWS_PER_LABEL,
  DEFAULT_THETA,
  LAYER_SELECTION_RULES,
  type LayerSelectionRule,
} from '../analysis/index.js';
import { ModeError, configError, oneOf, usageError } from '../core/errors.js';
import { parseDatasetSpec, parseScenario, SCENARIO_KINDS } from '../data/index.js';
import { checkArchitectureName } from '../model/architectures.js';
import { DEFAULT_EPOCHS, MAX_SEED, ScenarioTextSchema } from '../model/train-config.js';
import { METRIC_NAMES } from '../select/metrics.js';
import {
  formatStrategy,
  parseStrategy,
  SCORE_SPACES,
  STRATEGIES,
  STRATEGY_SETTING_KEYS,
  strategyNeeds,
  strategySettings,
  type SettingValues,
  type StrategySpec,
} from '../select/strategies.js';
import { describeClassSubset, type ClassSubset } from './class-subset.js';
import {
  controlSettingsOf,
  DEFAULT_ALPHA,
  DEFAULT_BATCH,
  DEFAULT_FINE_TUNE_EPOCHS,
  DEFAULT_ITERATIONS,
  RepairConfigSchema,
  RETRAIN_REGIMES,
  type RepairConfigInput,
  type RetrainRegime,
} from './repair-config.js';

/** Seeds when a config names none: calibration.md's five. */
const DEFAULT_SEED_COUNT = 5;

/** A scalar where a list is expected is read as a list of one. */
const asList = (v: unknown): unknown => (v === undefined || Array.isArray(v) ? v : [v]);
const list = <T extends z.ZodType>(item: T, fallback: z.output<T>[]) =>
  z.preprocess(
    asList,
    z
      .array(item)
      .min(1, 'must list at least one value')
      .default(fallback as never),
  );
/** An axis that, when absent, does not cross anything. */
const optionalList = <T extends z.ZodType>(item: T) =>
  z.preprocess(asList, z.array(item).min(1, 'must list at least one value').optional());

/** A bug scenario: 'none', 'starve 3,8:0.02' (several joined by ';'), or { starve: '3,8:0.02' }. */
const ScenarioSchema = z.union([z.string(), ScenarioTextSchema], {
  error: "expected 'none', a text such as 'starve 3,8:0.02', or an object such as { starve: '3,8:0.02' }",
});

const SizesSchema = z.strictObject({
  train: z.number().int().positive().optional(),
  validation: z.number().int().nonnegative().optional(),
  pool: z.number().int().nonnegative().optional(),
});

const ClassSubsetSchema = z.union(
  [
    z.number().int().min(2),
    z
      .array(z.number().int().min(0))
      .min(2, 'a list of labels must name at least 2')
      .refine((l) => new Set(l).size === l.length, 'a label is listed twice'),
    z.null(),
  ],
  { error: 'expected a class count (an integer >= 2), a list of at least 2 distinct labels, or null (every class)' },
);

const SeedSchema = z.number().int().min(0).max(MAX_SEED);

/** What a slice of a benchmark is for: choosing (development, validation figures only) or confirming the choice. */
export const SLICE_ROLES = ['development', 'confirmation'] as const;
export type SliceRole = (typeof SLICE_ROLES)[number];

/**
 * A slice of a benchmark: its own datasets, scenarios and models (each crossed with the others and
 * with the rest of the grid), named, and fixed as development or confirmation before any run.
 */
const SliceSchema = z.strictObject({
  name: z.string().min(1),
  role: z.enum(SLICE_ROLES),
  datasets: z.preprocess(asList, z.array(z.string().min(1)).min(1)),
  scenarios: z.preprocess(asList, z.array(ScenarioSchema).min(1)).default(['none']),
  models: z.preprocess(asList, z.array(z.string().min(1)).min(1)),
});
export type Slice = z.output<typeof SliceSchema>;

export const ExperimentConfigSchema = z
  .strictObject({
    /** A name for the experiment (the default store is runs/NAME.sqlite). */
    name: z.string().min(1).optional(),
    /** Dataset specs as `--dataset` takes them. */
    datasets: list(z.string().min(1), ['mnist']),
    /**
     * Class subsets: k keeps the labels 0..k-1; a list of labels keeps those, relabelled by their place
     * in the list ([[3, 5]] is one subset, [3, 5] two); null: every class. See class-subset.ts.
     */
    classSubsets: list(ClassSubsetSchema, [null]),
    scenarios: list(ScenarioSchema, ['none']),
    models: list(z.string().min(1), ['mlp']),
    /** Training split sizes; {} uses the data defaults (train 30000 / validation 5000 / pool 25000 of 60k). */
    trainSizes: list(SizesSchema, [{}]),
    epochs: list(z.number().int().positive(), [DEFAULT_EPOCHS]),
    /** A count N (seeds 1..N) or a list of seeds. */
    seeds: z
      .union([z.number().int().positive(), z.array(SeedSchema).min(1)], {
        error: 'expected a seed count (an integer >= 1) or a list of seeds (integers in [0, 2^32))',
      })
      .default(DEFAULT_SEED_COUNT),
    /**
     * Slices (a benchmark): each names its own datasets, scenarios and models, replacing those three axes;
     * the other axes cross every slice. Without slices, the three axes make one grid.
     */
    slices: z.array(SliceSchema).min(1).optional(),
    /** Strategies as `--strategy` / `--compare` take them: 'targeted-random', 'mode:dhm:least:cosine', ... */
    strategies: list(z.string().min(1), ['mode']),
    /** Metrics crossed with every mode strategy (a metric written in the strategy text wins). */
    metrics: optionalList(z.enum(METRIC_NAMES)),
    /** Score spaces (heat-map variants) crossed with every mode strategy (one written in the strategy text wins). */
    scoreSpaces: optionalList(z.enum(SCORE_SPACES)),
    layerSelections: list(z.enum(LAYER_SELECTION_RULES), ['saturation']),
    alphas: list(z.number().min(0).max(1), [DEFAULT_ALPHA]),
    batches: list(z.number().int().positive(), [DEFAULT_BATCH]),
    iterations: list(z.number().int().positive(), [DEFAULT_ITERATIONS]),
    retrain: list(z.enum(RETRAIN_REGIMES), ['cumulative']),
    fineTuneEpochs: z.number().int().positive().default(DEFAULT_FINE_TUNE_EPOCHS),
    theta: z.number().min(0).max(1).default(DEFAULT_THETA),
    gamma: z.number().min(0).max(1).default(DEFAULT_GAMMA),
    /** Stop an arm once no buggy label remains (the slides' "Finished Early"); false: every arm spends the whole budget. */
    earlyStop: z.boolean().default(true),
    layerOnce: z.boolean().default(false),
    /** Feature-model heads train on at most this many training inputs per label; 0: on every input. */
    headRowsPerLabel: z.number().int().min(0).default(DEFAULT_HEAD_ROWS_PER_LABEL),
  })
  .superRefine((config, ctx) => {
    // Names that other modules own are checked by their own parsers, and reported at their path here.
    const check = (where: (string | number)[], work: () => unknown): void => {
      try {
        work();
      } catch (error) {
        if (!(error instanceof ModeError)) throw error;
        ctx.addIssue({ code: 'custom', path: where, message: error.message });
      }
    };
    config.datasets.forEach((d, i) => check(['datasets', i], () => parseDatasetSpec(d)));
    config.scenarios.forEach((s, i) => check(['scenarios', i], () => canonicalScenario(s)));
    config.models.forEach((m, i) => check(['models', i], () => checkArchitectureName(m)));
    config.slices?.forEach((slice, k) => {
      slice.datasets.forEach((d, i) => check(['slices', k, 'datasets', i], () => parseDatasetSpec(d)));
      slice.scenarios.forEach((s, i) => check(['slices', k, 'scenarios', i], () => canonicalScenario(s)));
      slice.models.forEach((m, i) => check(['slices', k, 'models', i], () => checkArchitectureName(m)));
    });
    const names = config.slices?.map((slice) => slice.name) ?? [];
    names.forEach((name, k) => {
      if (names.indexOf(name) !== k)
        ctx.addIssue({ code: 'custom', path: ['slices', k, 'name'], message: `slice '${name}' is named twice` });
    });
    config.strategies.forEach((s, i) => check(['strategies', i], () => parseStrategy(s)));
  });

export type ExperimentConfig = z.output<typeof ExperimentConfigSchema>;
export type ExperimentConfigInput = z.input<typeof ExperimentConfigSchema>;

/** Validates a config object; a bad one fails naming the field path and the reason. `source` names it in messages (a file). */
export function parseExperimentConfig(input: unknown, source = 'experiment config'): ExperimentConfig {
  const parsed = ExperimentConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length === 0 ? '(top level)' : issue.path.map(String).join('.');
  throw configError(`${source}: bad experiment config at ${where}: ${issue.message}`);
}

/** Reads a config file: YAML (.yaml, .yml) or JSON (.json; anything else is tried as JSON, then YAML). */
export function loadExperimentConfig(file: string): ExperimentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ModeError(
      'usage',
      `cannot read experiment config '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; ` +
        'pass an existing JSON or YAML file',
    );
  }
  const ext = path.extname(file).toLowerCase();
  let raw: unknown;
  try {
    if (ext === '.yaml' || ext === '.yml') raw = parseYaml(text);
    else if (ext === '.json') raw = JSON.parse(text);
    else {
      try {
        raw = JSON.parse(text);
      } catch {
        raw = parseYaml(text);
      }
    }
  } catch (error) {
    throw configError(`${file}: not valid ${ext === '.json' ? 'JSON' : 'YAML or JSON'}: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseExperimentConfig(raw, file);
}

export type ScenarioText = z.output<typeof ScenarioTextSchema>;

/** A scenario as an object with its kinds in application order (small, starve, noise); 'none' is {}. Checks each text. */
export function canonicalScenario(input: string | ScenarioText): ScenarioText {
  const object: Record<string, string> = {};
  if (typeof input === 'string') {
    const text = input.trim();
    if (text !== 'none' && text !== '') {
      for (const part of text
        .split(';')
        .map((p) => p.trim())
        .filter((p) => p !== '')) {
        const [kind, ...rest] = part.split(/\s+/);
        if (!(SCENARIO_KINDS as readonly string[]).includes(kind ?? '') || rest.length !== 1) {
          throw configError(
            `scenario '${part}': expected KIND TEXT with KIND one of [${SCENARIO_KINDS.join(', ')}], e.g. 'starve 3,8:0.02'`,
          );
        }
        if (object[kind!] !== undefined) throw configError(`scenario '${text}' names ${kind} twice`);
        object[kind!] = rest[0]!;
      }
    }
  } else {
    for (const [kind, text] of Object.entries(input)) if (text !== undefined) object[kind] = text;
  }
  const out: ScenarioText = {};
  for (const kind of SCENARIO_KINDS) {
    const text = object[kind];
    if (text === undefined) continue;
    parseScenario(kind, text);
    out[kind] = text;
  }
  return out;
}

function describeScenarioText(s: ScenarioText): string {
  const parts = SCENARIO_KINDS.filter((k) => s[k] !== undefined).map((k) => `${k} ${s[k]}`);
  return parts.length === 0 ? 'none' : parts.join('; ');
}

type Sizes = z.output<typeof SizesSchema>;

/** What an initial model depends on: trained once per distinct value, shared by the cells that need it. */
export interface ModelConfig {
  readonly dataset: string;
  readonly classSubset: ClassSubset | null;
  readonly scenario: ScenarioText;
  readonly model: string;
  readonly sizes: Sizes;
  readonly epochs: number;
  readonly seed: number;
}

/**
 * One cell of the grid, fully resolved. null = the setting does not apply to this strategy
 * (layerSelection for strategies without heat maps, alpha for untargeted ones).
 */
export interface CellConfig extends ModelConfig {
  /** The strategy's canonical text (formatStrategy), e.g. mode:dhm:least:cosine:importance:top. */
  readonly strategy: string;
  readonly layerSelection: LayerSelectionRule | null;
  readonly alpha: number | null;
  readonly batch: number;
  readonly iterations: number;
  readonly retrain: RetrainRegime;
  readonly fineTuneEpochs: number;
  readonly theta: number;
  readonly gamma: number;
  readonly earlyStop: boolean;
  readonly layerOnce: boolean;
  /** null where the strategy trains no feature models. */
  readonly headRowsPerLabel: number | null;
}

/** A cell's settings: its resolved config and its strategy, parsed. */
export interface CellSettings {
  readonly config: CellConfig;
  readonly spec: StrategySpec;
}

export interface Cell extends CellSettings {
  /** Stable key: a hash of the resolved config (the same settings always give the same key). */
  readonly key: string;
  /** Key of the initial model this cell repairs. */
  readonly modelKey: string;
  /** Key of the control arm this cell shares with every cell of the same model, seed and budget (controlKeyOf). */
  readonly controlKey: string;
  /** Human-readable: the settings that vary in this experiment, and the seed. */
  readonly label: string;
}

export function seedList(seeds: ExperimentConfig['seeds']): number[] {
  return typeof seeds === 'number' ? Array.from({ length: seeds }, (_, i) => i + 1) : [...seeds];
}

/** JSON with object keys sorted at every depth: the same value always gives the same text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });
}

/** Length in hex digits of cell and model keys (64 bits of sha256: collisions are not a concern at any grid size). */
const KEY_LENGTH = 16;

export function hashKey(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, KEY_LENGTH);
}

export function modelConfigOf(cell: ModelConfig): ModelConfig {
  const { dataset, classSubset, scenario, model, sizes, epochs, seed } = cell;
  return { dataset, classSubset, scenario, model, sizes, epochs, seed };
}

const modelKey = (m: ModelConfig): string => hashKey({ kind: 'model', ...modelConfigOf(m) });
const cellKey = (c: CellConfig): string => hashKey({ kind: 'cell', ...c });
/** Cells with the same control key share one control arm (random selection does not depend on the strategy, layer selection or alpha). */
const controlKeyOf = (c: CellSettings): string =>
  hashKey({ kind: 'control', model: modelKey(c.config), ...controlSettingsOf(RepairConfigSchema.parse(repairInputOf(c))) });

/**
 * The strategies of the grid: each text crossed with the metric and score-space axes (for the
 * strategies that have those settings), deduplicated.
 */
function expandStrategies(config: ExperimentConfig): StrategySpec[] {
  const out = new Map<string, StrategySpec>();
  for (const text of config.strategies) {
    for (const metric of config.metrics ?? [undefined]) {
      for (const scoreSpace of config.scoreSpaces ?? [undefined]) {
        const defaults: SettingValues = {};
        if (metric !== undefined) defaults.metric = metric;
        if (scoreSpace !== undefined) defaults.scoreSpace = scoreSpace;
        const spec = parseStrategy(text, defaults);
        out.set(formatStrategy(spec), spec);
      }
    }
  }
  return [...out.values()];
}

/**
 * The cells of an experiment, in a deterministic order (model settings outermost, then strategy,
 * layer selection, alpha, batch, iterations, retraining), without duplicates.
 */
export function expandCells(config: ExperimentConfig): Cell[] {
  const strategies = expandStrategies(config);
  const cells: { config: CellConfig; spec: StrategySpec }[] = [];
  for (const slice of slicesOf(config))
    for (const dataset of slice.datasets)
      for (const classSubset of config.classSubsets)
        for (const scenarioInput of slice.scenarios)
          for (const model of slice.models)
            for (const sizes of config.trainSizes)
              for (const epochs of config.epochs)
                for (const seed of seedList(config.seeds)) {
                  const scenario = canonicalScenario(scenarioInput);
                  for (const spec of strategies) {
                    // Layer selection applies to strategies that score against the analysis' maps; alpha to targeted ones.
                    const layerSelections = strategyNeeds(spec).maps !== undefined ? config.layerSelections : [null];
                    for (const layerSelection of layerSelections)
                      for (const alpha of STRATEGIES[spec.kind].targeted ? config.alphas : [null])
                        for (const batch of config.batches)
                          for (const iterations of config.iterations)
                            for (const retrain of config.retrain) {
                              cells.push({
                                spec,
                                config: {
                                  dataset,
                                  classSubset,
                                  scenario,
                                  model,
                                  sizes: { ...sizes },
                                  epochs,
                                  seed,
                                  strategy: formatStrategy(spec),
                                  layerSelection,
                                  alpha,
                                  batch,
                                  iterations,
                                  retrain,
                                  fineTuneEpochs: config.fineTuneEpochs,
                                  theta: config.theta,
                                  gamma: config.gamma,
                                  earlyStop: config.earlyStop,
                                  layerOnce: config.layerOnce,
                                  headRowsPerLabel: layerSelection === null ? null : config.headRowsPerLabel,
                                },
                              });
                            }
                  }
                }
  const seen = new Set<string>();
  const unique = cells.filter((c) => {
    const key = cellKey(c.config);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const varying = varyingDimensions(unique.map(cellDimensions));
  return unique.map((c) => ({
    key: cellKey(c.config),
    modelKey: modelKey(c.config),
    controlKey: controlKeyOf(c),
    ...c,
    label: cellLabel(c, varying),
  }));
}

/** What the slices of a config are read from. */
type SliceSource = Pick<ExperimentConfig, 'slices' | 'datasets' | 'scenarios' | 'models'>;

/** The slices of a config: its own, or the one grid of its datasets, scenarios and models (a development slice named 'all'). */
function slicesOf(config: SliceSource): Slice[] {
  return (
    config.slices ?? [{ name: 'all', role: 'development', datasets: config.datasets, scenarios: config.scenarios, models: config.models }]
  );
}

/** The slice a cell belongs to (the first that holds its dataset, scenario and model), or null. */
export function sliceOfCell(config: SliceSource, cell: Pick<CellConfig, 'dataset' | 'scenario' | 'model'>): Slice | null {
  const scenario = describeScenarioText(cell.scenario);
  return (
    slicesOf(config).find(
      (slice) =>
        slice.datasets.includes(cell.dataset) &&
        slice.models.includes(cell.model) &&
        slice.scenarios.some((s) => describeScenarioText(canonicalScenario(s)) === scenario),
    ) ?? null
  );
}

/**
 * The parts of `strategy`: its kind and each strategy setting. Grouping by one of them never splits by
 * `strategy`, and the other way round.
 */
export const STRATEGY_PARTS = ['strategyName', ...STRATEGY_SETTING_KEYS] as const;

/**
 * The dimensions of a cell as strings, for grouping results (null: not applicable). `strategy` is the
 * whole strategy; STRATEGY_PARTS are its parts (null where the strategy has no such setting).
 */
export const DIMENSIONS = [
  'dataset',
  'classSubset',
  'scenario',
  'model',
  'sizes',
  'epochs',
  'strategy',
  ...STRATEGY_PARTS,
  'layerSelection',
  'alpha',
  'batch',
  'iterations',
  'retrain',
  'fineTuneEpochs',
  'theta',
  'gamma',
  'earlyStop',
  'layerOnce',
  'headRowsPerLabel',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export function cellDimensions({ config: c, spec }: CellSettings): Record<Dimension, string | null> {
  const sizes =
    c.sizes.train === undefined && c.sizes.validation === undefined && c.sizes.pool === undefined
      ? 'default'
      : `${c.sizes.train ?? 'default'}/${c.sizes.validation ?? 'default'}/${c.sizes.pool ?? 'default'}`;
  return {
    dataset: c.dataset,
    classSubset: c.classSubset === null ? 'all' : describeClassSubset(c.classSubset),
    scenario: describeScenarioText(c.scenario),
    model: c.model,
    sizes,
    epochs: String(c.epochs),
    strategy: c.strategy,
    strategyName: spec.kind,
    ...strategySettings(spec),
    layerSelection: c.layerSelection,
    alpha: c.alpha === null ? null : String(c.alpha),
    batch: String(c.batch),
    iterations: String(c.iterations),
    retrain: c.retrain,
    fineTuneEpochs: String(c.fineTuneEpochs),
    theta: String(c.theta),
    gamma: String(c.gamma),
    earlyStop: String(c.earlyStop),
    layerOnce: String(c.layerOnce),
    headRowsPerLabel: c.headRowsPerLabel === null ? null : String(c.headRowsPerLabel),
  };
}

/** CLI names of the dimensions (kebab-case), for --by and --where. */
export const DIMENSION_FLAGS: Readonly<Record<string, Dimension>> = Object.fromEntries(
  DIMENSIONS.map((d) => [d.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), d]),
);

/** A test of cells by their settings: every clause must hold. */
export type CellFilter = (c: CellSettings) => boolean;

/**
 * Parses `--where` clauses, each `setting=value[,value...]` (kebab-case setting names, values as
 * cellDimensions prints them), against the cells they will filter: an unknown setting, or a value no
 * cell has, is refused with the values there are, so a typo never silently selects nothing. A value
 * that itself holds commas (`scenario=starve 3,8:0.02`) is taken whole when some cell has it whole.
 * `seed` filters by seed; `slice` by a benchmark's slice name, when `config` (the cells' config) has slices.
 */
export function parseWhere(clauses: readonly string[], cells: readonly CellSettings[], config?: SliceSource): CellFilter {
  const slices = config?.slices === undefined ? [] : ['slice'];
  const tests = clauses.map((clause) => {
    const eq = clause.indexOf('=');
    if (eq <= 0 || eq === clause.length - 1)
      throw usageError(`--where '${clause}': expected SETTING=VALUE[,VALUE...], e.g. --where model=mlp`);
    const name = oneOf('--where setting', clause.slice(0, eq).trim(), [...Object.keys(DIMENSION_FLAGS), 'seed', ...slices]);
    const valueOf = (c: CellSettings): string | null =>
      name === 'seed'
        ? String(c.config.seed)
        : name === 'slice'
          ? (sliceOfCell(config!, c.config)?.name ?? null)
          : cellDimensions(c)[DIMENSION_FLAGS[name]!];
    const present = [...new Set(cells.map(valueOf).filter((v): v is string => v !== null))];
    const whole = clause.slice(eq + 1).trim();
    const values = present.includes(whole)
      ? [whole]
      : whole
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== '');
    for (const v of values) {
      if (!present.includes(v))
        throw usageError(
          `--where ${name}=${v}: no cell of this experiment has that value; ` +
            `its values: ${present.join(', ') || '(none: the setting does not apply)'}`,
        );
    }
    return (c: CellSettings): boolean => values.includes(valueOf(c) ?? '');
  });
  return (c) => tests.every((t) => t(c));
}

/** Dimensions with more than one distinct (applicable) value among these cells. */
export function varyingDimensions(dims: readonly Record<Dimension, string | null>[]): Dimension[] {
  return DIMENSIONS.filter((d) => new Set(dims.map((x) => x[d]).filter((v) => v !== null)).size > 1);
}

function cellLabel(c: CellSettings, varying: readonly Dimension[]): string {
  const dims = cellDimensions(c);
  // The strategy is shown whole; its parts would repeat it.
  const shown = varying.filter((d) => !(STRATEGY_PARTS as readonly string[]).includes(d) || !varying.includes('strategy'));
  const parts = shown
    .map((d) =>
      dims[d] === null ? null : d === 'strategy' || d === 'model' || d === 'dataset' || d === 'scenario' ? dims[d] : `${d}=${dims[d]}`,
    )
    .filter((p) => p !== null);
  return [...parts, `seed ${c.config.seed}`].join(' ');
}

/** The repair settings of a cell, as repairModel takes them (settings that do not apply get their defaults: they are unused). */
export function repairInputOf({ config: c, spec }: CellSettings): RepairConfigInput {
  return {
    strategy: spec,
    compare: [],
    iterations: c.iterations,
    batch: c.batch,
    alpha: c.alpha ?? DEFAULT_ALPHA,
    retrain: c.retrain,
    fineTuneEpochs: c.fineTuneEpochs,
    layerSelection: c.layerSelection ?? 'none',
    layerOnce: c.layerOnce,
    headRowsPerLabel: c.headRowsPerLabel ?? DEFAULT_HEAD_ROWS_PER_LABEL,
    theta: c.theta,
    gamma: c.gamma,
    earlyStop: c.earlyStop,
    seed: c.seed,
  };
}
