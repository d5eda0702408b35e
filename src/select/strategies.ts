/**
 * Selection strategies (docs/method.md section 7), one table. Each entry owns its description, its
 * settings (with their defaults), what the repair loop must prepare for it, and its `select`:
 * - random: uniform over the pool (the control);
 * - targeted-random: the targeted share of the batch uniform among inputs of the target label, the
 *   rest uniform among other labels (the ablation: does anything beyond knowing the label help?);
 * - mode: the targeted share scored against a heat map of the target label (map, order, metric,
 *   score space, pick), the rest uniform among other labels;
 * - entropy, margin, deepgini: the most uncertain inputs of the whole pool (active learning);
 * - targeted-uncertainty: the targeted share among inputs of the target label the model is least
 *   sure of (lowest p(label)), the rest uniform among other labels;
 * - badge, coreset, bald, dsa: literature baselines (BADGE, core-set, BALD with MC dropout, distance-based
 *   surprise adequacy), their kernels in baselines.ts.
 *
 * A strategy is a discriminated union on `kind` (StrategySpec), written as text at the edges
 * (`mode:dhm:least:cosine`): parseStrategy reads that text once, formatStrategy prints it.
 * Selection is deterministic for a seed; picked inputs leave the pool (the caller's `available`).
 * Adding a strategy is adding an entry to STRATEGIES (and its test): the CLI options, the config's
 * axes, the result dimensions and the repair loop all read the table.
 */
import { z } from 'zod';
import { ModeError, oneOf, usageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { METRIC_NAMES, METRICS, scoreCandidates, type MetricOptions } from './metrics.js';
import {
  badgeSeeding,
  baldScores,
  dsaReference,
  dsaScores,
  kCenterGreedy,
  gatherRows,
  lastLayerGradientFactors,
  nearestRows,
  weightedSeeding,
  type ReferenceSet,
} from './baselines.js';

const SELECTION_MAPS = ['hc', 'hm', 'hw', 'dhc', 'dhm', 'dhw', 'contrast'] as const;
type SelectionMap = (typeof SELECTION_MAPS)[number];
const ORDERS = ['most', 'least'] as const;
export const SCORE_SPACES = ['importance', 'activation', 'input'] as const;
export type ScoreSpace = (typeof SCORE_SPACES)[number];
const PICK_RULES = ['top', 'sample'] as const;
export type PickRule = (typeof PICK_RULES)[number];

/** One setting of a strategy: its values, its default, and how messages and --help name it. */
export interface Setting<V extends string = string> {
  readonly values: readonly V[];
  readonly default: V;
  /** Values beyond `values` that the setting also takes (a layer name, a count), and how --help names them. */
  readonly pattern?: { readonly test: RegExp; readonly name: string; readonly what: string };
  /** As messages name it: "unknown map 'x'". */
  readonly label: string;
  readonly help: string;
}

/** A strategy's settings table: each setting by name. */
export type Settings = Readonly<Record<string, Setting>>;
/** The values of a settings table: { map: 'hc' | 'hm' | ..., ... }. */
export type ValuesOf<S extends Settings> = { readonly [K in keyof S]: S[K] extends Setting<infer V> ? V : never };

/** Heat maps in the scoring space, as the strategy needs them (HC, HM, HW, DHC, DHM, DHW of the target). */
export type MapsInSpace = Readonly<Record<'hc' | 'hm' | 'hw' | 'dhc' | 'dhm' | 'dhw', Float32Array>>;

/** Where a strategy's features come from: the input of the output layer, the last hidden probe, or a layer by name. */
export type FeatureLayer = 'penultimate' | 'last-hidden' | { readonly name: string };

/** What prepareSelection (select/prepare.ts) makes ready for a strategy besides the pool's labels. */
export interface StrategyNeeds {
  /** The current model's class probabilities on the whole pool. */
  readonly probabilities?: true;
  /** The target label's heat maps at its target layer, and pool vectors, in this space. */
  readonly maps?: { readonly space: ScoreSpace };
  /** Pool inputs' activations at this layer (SelectionInput.features). */
  readonly features?: { readonly layer: FeatureLayer };
  /** The training set's activations at the same layer, with its labels, a sample per class (SelectionInput.trainFeatures). */
  readonly trainFeatures?: true;
  /** Class probabilities of this many Monte Carlo dropout passes over the pool (SelectionInput.stochastic). */
  readonly stochastic?: { readonly passes: number };
  /** The label the target is most often mistaken for on validation (SelectionInput.confusedWith). */
  readonly confusion?: true;
}

/** Activations of pool inputs at one layer, read a chunk of inputs at a time (a wide layer never sits in memory whole). */
export interface PoolFeatures {
  /** The layer's name. */
  readonly layer: string;
  /** Values per input. */
  readonly size: number;
  /** indices.length x size values. */
  rows(indices: Int32Array): Promise<Float32Array>;
}

export interface SelectionInput {
  /** Pool labels. */
  readonly labels: Int32Array;
  /** 1 where the pool input is still available. */
  readonly available: Uint8Array;
  /** The current model's class probabilities on the pool, count x numClasses (for strategies that need them). */
  readonly probabilities?: Float32Array;
  readonly numClasses: number;
  /** The label to repair and its bug kind; null when no bug remains (untargeted strategies only). */
  readonly target: { readonly label: number; readonly kind: 'underfitting' | 'overfitting' } | null;
  /**
   * Vectors of pool inputs in the scoring space (count x size), for strategies that need maps; valid
   * until the next call (a repair writes them into memory it reuses).
   */
  readonly vectors?: (indices: Int32Array) => Promise<Float32Array>;
  readonly maps?: MapsInSpace;
  /** Pool activations at the layer the strategy's needs name (badge, coreset: the penultimate layer; dsa: its layer). */
  readonly features?: PoolFeatures;
  /** The training set's activations at the same layer, with labels (a seeded sample of at most a few hundred rows per label). */
  readonly trainFeatures?: ReferenceSet;
  /** Class probabilities of T Monte Carlo dropout passes over the pool, each count x numClasses. */
  readonly stochastic?: readonly Float32Array[];
  /** The label the target's validation inputs are most often predicted as (MODE's confusion pair), when there is a target. */
  readonly confusedWith?: number;
}

export interface SelectionOptions {
  readonly batch: number;
  readonly alpha: number;
  readonly metricOptions?: MetricOptions;
  readonly rng: Rng;
}

export interface Selection {
  /** Pool indices, targeted picks first. */
  readonly indices: Int32Array;
  /** The strategy's score of each pick (NaN for uniform picks). */
  readonly scores: Float64Array;
  /** 1 for picks of the targeted share. */
  readonly targeted: Uint8Array;
}

/**
 * What a strategy's `select` works with: the pool, the options, and the picks so far. Picks it makes
 * count towards its share (the targeted share of a targeted strategy, else the whole batch).
 */
export interface SelectionContext {
  readonly input: SelectionInput;
  readonly options: SelectionOptions;
  /** Pool indices still available and not picked yet that pass `keep`, ascending. */
  available(keep?: (i: number) => boolean): number[];
  /** `count` of `candidates` uniformly at random. */
  uniform(candidates: readonly number[], count: number): void;
  /** The `count` candidates with the highest scores (`top`), or a draw weighted by score (`sample`). */
  best(candidates: readonly number[], scores: ArrayLike<number>, count: number, pick?: PickRule): void;
}

/** The part of the batch a strategy fills: the targeted share from the target label's inputs, or the whole batch from the pool. */
export interface Share {
  readonly candidates: readonly number[];
  readonly count: number;
}

export interface StrategyEntry<S extends Settings = Settings> {
  readonly description: string;
  /**
   * Spends the targeted share alpha of each batch on inputs of the target label (`select` fills it);
   * the rest of the batch is uniform among other labels. An untargeted strategy fills the whole batch.
   */
  readonly targeted: boolean;
  readonly settings: S;
  readonly needs?: (settings: ValuesOf<S>) => StrategyNeeds;
  readonly select: (settings: ValuesOf<S>, context: SelectionContext, share: Share) => void | Promise<void>;
}

/** An entry, typed by its own settings (the table's type keeps each entry's). */
const entry = <S extends Settings>(e: StrategyEntry<S>): StrategyEntry<S> => e;

/**
 * mode's settings. The defaults: the target-label inputs LEAST similar to HC (the correctly handled
 * ones), cosine in importance space. Chosen by the study in docs/ on validation recall of the starved
 * labels (MNIST MLP, starve 3,8:0.02, B = 200, 5 seeds: hc-least 0.903, contrast 0.901, dhm-least
 * 0.890, hm-most 0.808, dhm-most 0.740); test was not looked at.
 */
const MODE_SETTINGS = {
  map: { values: SELECTION_MAPS, default: 'hc', label: 'map', help: "mode's heat map" },
  order: { values: ORDERS, default: 'least', label: 'order', help: 'most or least similar first' },
  metric: { values: METRIC_NAMES, default: 'cosine', label: 'metric', help: 'similarity metric' },
  scoreSpace: { values: SCORE_SPACES, default: 'importance', label: 'score space', help: 'space the inputs are scored in' },
  pick: { values: PICK_RULES, default: 'top', label: 'pick rule', help: 'the highest scores, or a draw weighted by score' },
} as const satisfies Settings;

/** An untargeted strategy that picks the pool inputs with the highest uncertainty measure of their probabilities. */
const uncertainty = (description: string, measure: (row: Float32Array) => number): StrategyEntry<{}> =>
  entry({
    description,
    targeted: false,
    settings: {},
    needs: () => ({ probabilities: true }),
    select: (_settings, { input, best }, share) => {
      const k = input.numClasses;
      const p = probabilitiesOf(input);
      best(
        share.candidates,
        share.candidates.map((i) => measure(p.subarray(i * k, (i + 1) * k))),
        share.count,
      );
    },
  });

function featuresOf(input: SelectionInput): PoolFeatures {
  if (input.features === undefined) throw new ModeError('internal', "this strategy needs the pool's features");
  return input.features;
}

function probabilitiesOf(input: SelectionInput): Float32Array {
  if (input.probabilities === undefined) throw new ModeError('internal', "this strategy needs the pool's class probabilities");
  return input.probabilities;
}

export const STRATEGIES = {
  mode: entry({
    description: 'targeted share scored against a heat map of the target label',
    targeted: true,
    settings: MODE_SETTINGS,
    needs: (s) => ({ maps: { space: s.scoreSpace } }),
    select: selectByMaps,
  }),
  random: entry({
    description: 'uniform over the pool (the control)',
    targeted: false,
    settings: {},
    select: (_settings, { uniform }, share) => uniform(share.candidates, share.count),
  }),
  'targeted-random': entry({
    description: 'targeted share uniform among inputs of the target label',
    targeted: true,
    settings: {},
    select: (_settings, { uniform }, share) => uniform(share.candidates, share.count),
  }),
  'targeted-uncertainty': entry({
    description: 'targeted share among target-label inputs with the lowest p(label)',
    targeted: true,
    settings: {},
    needs: () => ({ probabilities: true }),
    select: (_settings, { input, best }, share) => {
      const label = input.target!.label;
      const p = probabilitiesOf(input);
      best(
        share.candidates,
        share.candidates.map((i) => -p[i * input.numClasses + label]!),
        share.count,
      );
    },
  }),
  entropy: uncertainty('highest predictive entropy over the pool', entropy),
  margin: uncertainty('smallest top-1 minus top-2 probability over the pool', (row) => -topTwoMargin(row)),
  deepgini: uncertainty('highest Gini impurity 1 - sum p^2 over the pool (DeepGini)', gini),
  'least-confidence': uncertainty('lowest top-class probability over the pool (1 - max p)', (row) => 1 - Math.max(...row)),
  'confusion-margin': entry({
    description:
      'the pool inputs the model hesitates on between the buggy label and the label it is most confused with: ' +
      'highest min(p(buggy), p(confused)); with no buggy label, the smallest top-1 minus top-2 margin',
    targeted: false,
    settings: {},
    needs: () => ({ probabilities: true, confusion: true }),
    select: (_settings, { input, best }, share) => {
      const k = input.numClasses;
      const p = probabilitiesOf(input);
      const t = input.target?.label;
      const c = input.confusedWith;
      const score = (i: number): number =>
        t === undefined || c === undefined ? -topTwoMargin(p.subarray(i * k, (i + 1) * k)) : Math.min(p[i * k + t]!, p[i * k + c]!);
      best(share.candidates, share.candidates.map(score), share.count);
    },
  }),
  'mode-diversity': entry({
    description:
      "targeted share: k-means++ over target-label inputs in the target layer's importance space, " +
      'each weighted by its uncertainty 1 - p(label): diverse and unsure, not near-duplicates',
    targeted: true,
    settings: {},
    needs: () => ({ probabilities: true, maps: { space: 'importance' } }),
    select: async (_settings, { input, options, best }, share) => {
      if (input.vectors === undefined) throw new ModeError('internal', 'mode-diversity needs pool vectors in importance space');
      const candidates = share.candidates;
      if (candidates.length === 0) return;
      const label = input.target!.label;
      const p = probabilitiesOf(input);
      const rows = await input.vectors(Int32Array.from(candidates));
      const weights = Float64Array.from(candidates, (i) => 1 - p[i * input.numClasses + label]!);
      const { picks, scores } = weightedSeeding(
        rows,
        candidates.length,
        rows.length / candidates.length,
        weights,
        share.count,
        options.rng,
      );
      picks.forEach((pick, k) => best([candidates[pick]!], [scores[k]!], 1));
    },
  }),
  badge: entry({
    description: 'k-means++ seeding over last-layer gradient embeddings (BADGE): uncertain and diverse',
    targeted: false,
    settings: {},
    needs: () => ({ probabilities: true, features: { layer: 'penultimate' } }),
    select: async (_settings, { input, options, best }, share) => {
      const candidates = share.candidates;
      const h = await featuresOf(input).rows(Int32Array.from(candidates));
      const u = lastLayerGradientFactors(probabilitiesOf(input), input.numClasses, candidates);
      const { picks, distances } = badgeSeeding(
        u,
        input.numClasses,
        h,
        featuresOf(input).size,
        candidates.length,
        share.count,
        options.rng,
      );
      picks.forEach((p, k) => best([candidates[p]!], [distances[k]!], 1));
    },
  }),
  coreset: entry({
    description: 'greedy k-center over penultimate features, the training set as the first centres (core-set)',
    targeted: false,
    settings: {},
    needs: () => ({ features: { layer: 'penultimate' }, trainFeatures: true }),
    select: async (_settings, { input, options, best }, share) => {
      const candidates = share.candidates;
      const features = featuresOf(input);
      const d = features.size;
      const rows = await features.rows(Int32Array.from(candidates));
      // The initial centres: the training set's features, or where they are not given the picks so far (inputs no longer available).
      let centres: Float32Array;
      let centreCount: number;
      if (input.trainFeatures !== undefined && input.trainFeatures.count > 0) {
        centres = input.trainFeatures.values;
        centreCount = input.trainFeatures.count;
      } else {
        const picked: number[] = [];
        for (let i = 0; i < input.available.length; i++) if (input.available[i] === 0) picked.push(i);
        centres = await features.rows(Int32Array.from(picked));
        centreCount = picked.length;
      }
      // Against a seeded sample of at most CORESET_CENTRES of them: each centre costs a pass over the candidates.
      const sample = centreCount <= CORESET_CENTRES ? null : options.rng.sample(centreCount, CORESET_CENTRES);
      const minDistance =
        sample === null
          ? nearestRows(rows, candidates.length, centres, centreCount, d).distance
          : nearestRows(rows, candidates.length, gatherRows(centres, d, sample), sample.length, d).distance;
      const first = candidates.length === 0 ? 0 : options.rng.int(candidates.length);
      const { picks, distances } = kCenterGreedy(rows, candidates.length, d, minDistance, share.count, first);
      picks.forEach((p, k) => best([candidates[p]!], [distances[k]!], 1));
    },
  }),
  bald: entry({
    description: 'highest mutual information between prediction and weights over MC dropout passes (BALD)',
    targeted: false,
    settings: {
      passes: {
        values: ['20'],
        default: '20',
        pattern: { test: /^[1-9][0-9]{0,3}$/, name: 'N', what: 'a count from 1 to 9999' },
        label: 'dropout passes',
        help: "bald's Monte Carlo dropout passes",
      },
    },
    needs: (s) => ({ stochastic: { passes: Number(s.passes) } }),
    select: (_settings, { input, best }, share) => {
      if (input.stochastic === undefined) throw new ModeError('internal', 'bald needs Monte Carlo dropout passes over the pool');
      best(share.candidates, baldScores(input.stochastic, input.numClasses, share.candidates), share.count);
    },
  }),
  dsa: entry({
    description: 'highest distance-based surprise adequacy against training activations at a layer (DSA)',
    targeted: false,
    settings: {
      layer: {
        values: ['last-hidden'],
        default: 'last-hidden',
        pattern: { test: /^[A-Za-z0-9_./-]+$/, name: 'LAYER', what: "a layer's name" },
        label: 'dsa layer',
        help: "dsa's layer: the last hidden probe, or a layer's name",
      },
    },
    needs: (s) => ({
      probabilities: true,
      features: { layer: s.layer === 'last-hidden' ? 'last-hidden' : { name: s.layer } },
      trainFeatures: true,
    }),
    select: async (_settings, { input, best }, share) => {
      const features = featuresOf(input);
      if (input.trainFeatures === undefined) throw new ModeError('internal', "dsa needs the training set's activations");
      const reference = dsaReference(input.trainFeatures, input.numClasses);
      const k = input.numClasses;
      const p = probabilitiesOf(input);
      const scores = new Float64Array(share.candidates.length);
      // A chunk of candidates at a time: a wide layer's activations of the whole pool never sit in memory.
      for (let start = 0; start < share.candidates.length; start += VECTOR_CHUNK) {
        const part = share.candidates.slice(start, start + VECTOR_CHUNK);
        const rows = await features.rows(Int32Array.from(part));
        const predicted = Int32Array.from(part, (i) => {
          let top = 0;
          for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + top]!) top = c;
          return top;
        });
        scores.set(dsaScores(reference, rows, predicted), start);
      }
      best(share.candidates, scores, share.count);
    },
  }),
} as const;

export type StrategyKind = keyof typeof STRATEGIES;

/**
 * The strategy `mode repair` and `mode select` use unless told otherwise: the winner of the `benchmark`
 * preset on validation over its development slices (mean rank 3.00 of 13 at 10 seeds; margin 3.25,
 * MODE's readings 10.50-10.75; docs/studies/benchmark.md). `--strategy mode` keeps the paper's method.
 */
export const DEFAULT_STRATEGY: StrategyKind = 'badge';
export const STRATEGY_KINDS = Object.keys(STRATEGIES) as StrategyKind[];

export type SettingsOfKind<K extends StrategyKind> = (typeof STRATEGIES)[K]['settings'];
/** A strategy with its settings: a discriminated union on `kind`. */
export type StrategySpec = { [K in StrategyKind]: { readonly kind: K } & ValuesOf<SettingsOfKind<K>> }[StrategyKind];
/** A strategy as code writes it: the kind, and any settings (the rest take their defaults). */
export type StrategySpecInput = { [K in StrategyKind]: { readonly kind: K } & Partial<ValuesOf<SettingsOfKind<K>>> }[StrategyKind];

/** Every strategy setting, in table order; a setting shared by entries is listed once. */
export type SettingKey = { [K in StrategyKind]: keyof SettingsOfKind<K> }[StrategyKind];
const settingsOf = (kind: StrategyKind): Settings => STRATEGIES[kind].settings;
const settingKeysOf = (kind: StrategyKind): string[] => Object.keys(settingsOf(kind));
export const STRATEGY_SETTING_KEYS = [...new Set(STRATEGY_KINDS.flatMap(settingKeysOf))] as SettingKey[];
/** The description of each setting (the first entry's, where entries share one). */
export const STRATEGY_SETTINGS = Object.fromEntries(
  STRATEGY_SETTING_KEYS.map((key) => [key, settingsOf(STRATEGY_KINDS.find((k) => Object.hasOwn(settingsOf(k), key))!)[key]!]),
) as Record<SettingKey, Setting>;
/** Values for any strategy's settings, as the CLI flags and the config's axes give them. */
export type SettingValues = Partial<Record<SettingKey, string>>;

/** The zod schema of a strategy spec: the kind, and that entry's settings with their defaults. */
export const StrategySpecSchema = z.discriminatedUnion(
  'kind',
  STRATEGY_KINDS.map((kind) =>
    z.strictObject({
      kind: z.literal(kind),
      ...Object.fromEntries(
        Object.entries(settingsOf(kind)).map(([key, s]) => [
          key,
          (s.pattern === undefined
            ? z.enum(s.values as [string, ...string[]])
            : z.string().refine((v) => s.values.includes(v) || s.pattern!.test.test(v), `not a ${s.label}`)
          ).default(s.default),
        ]),
      ),
    }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<StrategySpec, StrategySpecInput>;

/** A complete spec: the kind with its settings, each given value checked, the others at their defaults. */
export function strategySpec(kind: StrategyKind, values: SettingValues = {}): StrategySpec {
  const spec: Record<string, string> = { kind };
  for (const [key, setting] of Object.entries(settingsOf(kind))) {
    const value = values[key as SettingKey];
    spec[key] = value === undefined ? setting.default : checkSetting(setting, value);
  }
  return spec as StrategySpec;
}

/** A setting's value, checked: one of its values, or one its pattern takes. */
export function checkSetting(setting: Setting, value: string): string {
  if (setting.pattern !== undefined && !setting.values.includes(value)) {
    if (setting.pattern.test.test(value)) return value;
    throw usageError(`unknown ${setting.label} '${value}': must be one of [${setting.values.join(', ')}] or ${setting.pattern.what}`);
  }
  return oneOf(setting.label, value, setting.values);
}

/**
 * Parses a strategy as written on the command line and in configs: a kind, then its settings in
 * table order, separated by ':' (e.g. `mode:dhm:least:cosine`); an empty or missing setting takes
 * the value from `defaults`, else its default.
 */
export function parseStrategy(text: string, defaults: SettingValues = {}): StrategySpec {
  const [head, ...rest] = text.trim().split(':');
  const kind = oneOf('strategy', head ?? '', STRATEGY_KINDS);
  const keys = settingKeysOf(kind);
  if (rest.length > keys.length) {
    if (keys.length === 0) {
      const withSettings = STRATEGY_KINDS.filter((k) => settingKeysOf(k).length > 0).map(
        (k) =>
          `${k}:${settingKeysOf(k)
            .map((s) => s.toUpperCase())
            .join(':')}`,
      );
      throw usageError(`strategy '${text}': only ${withSettings.join(', ')} take settings`);
    }
    throw usageError(`strategy '${text}': too many settings; write ${kind}:${keys.map((s) => s.toUpperCase()).join(':')}`);
  }
  const values: SettingValues = {};
  for (const key of keys as SettingKey[]) {
    const value = defaults[key];
    if (value !== undefined) values[key] = value;
  }
  rest.forEach((value, i) => {
    if (value !== '') values[keys[i] as SettingKey] = value;
  });
  return strategySpec(kind, values);
}

/** The strategy of a text, or null where it is not a strategy of this version (a document of another version of mode). */
export function tryParseStrategy(text: string): StrategySpec | null {
  try {
    return parseStrategy(text);
  } catch {
    return null;
  }
}

/**
 * How reports name a strategy given by its canonical text: its kind, then its settings in brackets
 * (`mode (hc, least, cosine, importance, top)`). Any other text (a kind alone, a metric) is returned as it is.
 */
export function strategyTitle(text: string): string {
  const spec = tryParseStrategy(text);
  if (spec === null || formatStrategy(spec) !== text) return text;
  const settings = Object.values(strategySettings(spec)).filter((v) => v !== null);
  return settings.length === 0 ? spec.kind : `${spec.kind} (${settings.join(', ')})`;
}

/** The canonical text of a strategy: the kind, then every setting in table order (`mode:hc:least:cosine:importance:top`). */
export function formatStrategy(spec: StrategySpec): string {
  const values = spec as unknown as Record<string, string>;
  return [spec.kind, ...settingKeysOf(spec.kind).map((key) => values[key]!)].join(':');
}

/** The value of each strategy setting for a spec; null where its kind has no such setting. */
export function strategySettings(spec: StrategySpec): Record<SettingKey, string | null> {
  const values = spec as unknown as Record<string, string>;
  return Object.fromEntries(
    STRATEGY_SETTING_KEYS.map((key) => [key, Object.hasOwn(settingsOf(spec.kind), key) ? values[key]! : null]),
  ) as Record<SettingKey, string | null>;
}

/** What the repair loop must prepare for a strategy (nothing beyond probabilities for most). */
export function strategyNeeds(spec: StrategySpec): StrategyNeeds {
  const e = STRATEGIES[spec.kind] as StrategyEntry;
  return e.needs?.(spec as never) ?? {};
}

interface Pick {
  index: number;
  score: number;
  targeted: boolean;
}

export async function selectBatch(spec: StrategySpec, input: SelectionInput, options: SelectionOptions): Promise<Selection> {
  const { batch, alpha, rng } = options;
  const e = STRATEGIES[spec.kind] as StrategyEntry;
  let left = 0;
  for (let i = 0; i < input.available.length; i++) left += input.available[i]!;
  if (batch > left) {
    throw usageError(
      `a batch of ${batch} inputs is larger than the ${left} pool inputs left; lower --batch or --budget, or use a larger pool`,
    );
  }
  const picks: Pick[] = [];
  const taken = new Uint8Array(input.labels.length);
  let targetedPicks = e.targeted;
  const available = (keep: (i: number) => boolean = () => true): number[] => {
    const out: number[] = [];
    for (let i = 0; i < input.labels.length; i++) if (input.available[i] === 1 && taken[i] === 0 && keep(i)) out.push(i);
    return out;
  };
  const take = (index: number, score: number): void => {
    taken[index] = 1;
    picks.push({ index, score, targeted: targetedPicks });
  };
  const context: SelectionContext = {
    input,
    options,
    available,
    uniform: (candidates, count) => {
      for (const k of rng.sample(candidates.length, Math.min(count, candidates.length))) take(candidates[k]!, NaN);
    },
    best: (candidates, scores, count, pick = 'top') => {
      for (const k of rankIndices(scores, Math.min(count, candidates.length), pick, rng)) take(candidates[k]!, scores[k]!);
    },
  };

  if (!e.targeted) {
    await e.select(spec as never, context, { candidates: available(), count: batch });
  } else {
    if (input.target === null) throw new ModeError('internal', `${spec.kind} needs a target label`);
    const label = input.target.label;
    await e.select(spec as never, context, { candidates: available((i) => input.labels[i] === label), count: Math.floor(alpha * batch) });
    targetedPicks = false;
    context.uniform(
      available((i) => input.labels[i] !== label),
      batch - picks.length,
    );
  }
  return {
    indices: Int32Array.from(picks, (p) => p.index),
    scores: Float64Array.from(picks, (p) => p.score),
    targeted: Uint8Array.from(picks, (p) => (p.targeted ? 1 : 0)),
  };
}

/**
 * mode's targeted share. Underfitting: target-label inputs scored against the chosen map (for `hw`,
 * inputs of other labels as counter-examples). Overfitting: half target-label inputs against the
 * chosen map, half counter-examples (other labels) against DHW, as docs/method.md section 7 says.
 */
async function selectByMaps(settings: ValuesOf<typeof MODE_SETTINGS>, context: SelectionContext, share: Share): Promise<void> {
  const { input, options, best, available } = context;
  const { vectors, maps, target } = input;
  if (vectors === undefined || maps === undefined) throw new ModeError('internal', 'mode needs candidate vectors and heat maps');
  const label = target!.label;
  // Scored a chunk of candidates at a time, so the vectors of every other label's inputs (the
  // overfitting path, hw) never sit in memory at once at a wide layer; a metric whose score of a row
  // depends on the other rows (the histogram earth mover) sees them all at once.
  const chunk = METRICS[settings.metric].rowIndependent ? VECTOR_CHUNK : Infinity;
  const score = async (candidates: readonly number[], map: SelectionMap): Promise<Float64Array> => {
    const raw = new Float64Array(candidates.length);
    for (let start = 0; start < candidates.length; start += chunk) {
      const part = candidates.slice(start, start + chunk);
      const rows = await vectors(Int32Array.from(part));
      const against = (reference: Float32Array): Float64Array =>
        scoreCandidates(settings.metric, rows, part.length, reference, options.metricOptions ?? {});
      raw.set(map === 'contrast' ? subtractScores(against(maps.hm), against(maps.hc)) : against(maps[map]), start);
    }
    if (settings.order === 'least') for (let i = 0; i < raw.length; i++) raw[i] = -raw[i]!;
    return raw;
  };
  const others = (): number[] => available((i) => input.labels[i] !== label);
  const ofLabel = share.candidates;
  if (target!.kind === 'overfitting') {
    const half = Math.ceil(share.count / 2);
    best(ofLabel, await score(ofLabel, settings.map === 'hw' ? 'dhm' : settings.map), half, settings.pick);
    const counter = others();
    best(counter, await score(counter, 'dhw'), share.count - Math.min(half, ofLabel.length), settings.pick);
    return;
  }
  const candidates = settings.map === 'hw' ? others() : ofLabel;
  best(candidates, await score(candidates, settings.map), share.count, settings.pick);
}

/**
 * Initial centres coreset measures candidates against: a seeded sample of the training reference where
 * it is larger (25,000 candidates x 1,000 centres x 128 values is about 2 s on one core of this machine).
 */
const CORESET_CENTRES = 1000;

/** Candidates whose vectors mode holds at once: a multiple of the engines' inference batch, so vectors come out as from one pass. */
const VECTOR_CHUNK = 2048;

function subtractScores(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v - b[i]!);
}

/** Predictive entropy -sum p ln p of one row of probabilities. */
function entropy(row: Float32Array): number {
  let h = 0;
  for (const v of row) if (v > 0) h -= v * Math.log(v);
  return h;
}

/** Gini impurity 1 - sum p^2 (DeepGini). */
function gini(row: Float32Array): number {
  let s = 0;
  for (const v of row) s += v * v;
  return 1 - s;
}

/** Top-1 minus top-2 probability. */
function topTwoMargin(row: Float32Array): number {
  let first = -Infinity;
  let second = -Infinity;
  for (const v of row) {
    if (v > first) {
      second = first;
      first = v;
    } else if (v > second) second = v;
  }
  return first - second;
}

/**
 * Positions of the `count` picks among scores: `top` takes the highest (ties to the lower position);
 * `sample` draws without replacement with probability rising with the score (weights exp(z) of the
 * standardised scores, Efraimidis-Spirakis keys), so picks are not all near-duplicates.
 */
export function rankIndices(scores: ArrayLike<number>, count: number, pick: PickRule, rng: Rng): number[] {
  const n = scores.length;
  const positions = Array.from({ length: n }, (_, i) => i);
  if (pick === 'top') {
    positions.sort((a, b) => scores[b]! - scores[a]! || a - b);
    return positions.slice(0, count);
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += scores[i]! / n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (scores[i]! - mean) ** 2 / n;
  const sd = Math.sqrt(variance) || 1;
  const keys = positions.map((i) => {
    let u = rng.next();
    while (u === 0) u = rng.next();
    return Math.log(u) / Math.exp((scores[i]! - mean) / sd);
  });
  positions.sort((a, b) => keys[b]! - keys[a]! || a - b);
  return positions.slice(0, count);
}
