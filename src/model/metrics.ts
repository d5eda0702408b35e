/** Accuracy, per-label accuracy (recall) and the confusion matrix, from predicted probabilities. */

export interface ClassificationMetrics {
  readonly count: number;
  readonly accuracy: number;
  /** Recall per label: correct predictions of label l / inputs of label l (NaN where a label has none). */
  readonly perLabel: number[];
  /** Inputs per true label. */
  readonly support: number[];
  /** confusion[true][predicted]. */
  readonly confusion: number[][];
}

export function argmaxRows(probabilities: Float32Array, numClasses: number): Int32Array {
  const count = probabilities.length / numClasses;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    let bestValue = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      const v = probabilities[i * numClasses + c]!;
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

export function classificationMetrics(labels: Int32Array, predictions: Int32Array, numClasses: number): ClassificationMetrics {
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    const p = predictions[i]!;
    confusion[y]![p]! += 1;
    if (y === p) correct++;
  }
  const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const perLabel = confusion.map((row, l) => (support[l]! > 0 ? row[l]! / support[l]! : NaN));
  return { count: labels.length, accuracy: labels.length > 0 ? correct / labels.length : NaN, perLabel, support, confusion };
}
