/** Test fixture: small, valid repair documents (repair.json, a store's cells.result) of made-up accuracies. */
import type { RepairDocInput } from './repair-doc.js';

export interface FakeRepair {
  /** The strategy arm's name (its canonical text). */
  readonly strategy: string;
  readonly initial: number;
  readonly final: number;
  readonly control: number;
  readonly iterations?: number;
  /** How far below the overall accuracy the buggy label 1 is (of 3 labels). */
  readonly gap?: number;
}

/** Three labels; label 1 is buggy and `gap` below the others in every measurement. */
export function fakeRepairDoc({ strategy, initial, final, control, iterations = 2, gap = 0.2 }: FakeRepair): RepairDocInput {
  const metrics = (accuracy: number) => ({
    count: 30,
    accuracy,
    perLabel: [accuracy, accuracy - gap, accuracy],
    support: [10, 10, 10],
    confusion: [
      [10, 0, 0],
      [0, 10, 0],
      [0, 0, 10],
    ],
  });
  const arm = (name: string, isControl: boolean, accuracy: number) => ({
    name,
    control: isControl,
    finishedEarly: false,
    iterations: Array.from({ length: iterations }, (_, i) => ({
      iteration: i + 1,
      target: { label: 1, kind: 'underfitting' as const, layer: null },
      selected: { indices: [i], labels: [1], scores: [null], targeted: [1], alreadyCorrect: [0] },
      shareAlreadyCorrect: 0.5,
      shareAlreadyCorrectTargeted: null,
      meanPairwiseSimilarity: null,
      validation: { accuracy, perLabel: metrics(accuracy).perLabel },
      test: { accuracy, perLabel: metrics(accuracy).perLabel, confusion: metrics(accuracy).confusion },
      regressions: [],
      rolledBack: false,
    })),
  });
  const row = (name: string, finalAcc: number) => ({
    strategy: name,
    initialAcc: initial,
    finalAcc,
    controlAcc: control,
    finishedEarly: false,
    diffIF: finalAcc - initial,
    diffFC: finalAcc - control,
    iterations,
    targetLabel: 1,
    targetBefore: initial - gap,
    targetAfter: finalAcc - gap,
    controlTargetAfter: control - gap,
    buggyBefore: initial - gap,
    buggyAfter: finalAcc - gap,
    perLabelDelta: [finalAcc - initial, finalAcc - initial, finalAcc - initial],
  });
  return {
    kind: 'mode-repair',
    version: 1,
    model: 'model',
    dataset: 'synthetic',
    scenarios: [],
    classNames: ['0', '1', '2'],
    seed: 1,
    config: {
      strategy,
      compare: [],
      iterations,
      batch: 1,
      alpha: 0.25,
      retrain: 'cumulative',
      fineTuneEpochs: 1,
      layerSelection: 'saturation',
      layerOnce: false,
      theta: 0.92,
      gamma: 0.1,
      delta: 0.05,
      rollback: false,
      earlyStop: false,
      minkowskiP: 3,
      seed: 1,
    },
    initial: { validation: metrics(initial), test: metrics(initial), bugs: [{ label: 1, kind: 'underfitting' }] },
    table: [row(strategy, final), row('control', control)],
    arms: [arm(strategy, false, final), arm('control', true, control)],
  };
}
