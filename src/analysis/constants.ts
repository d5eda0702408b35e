/**
 * Empirical constants of the analysis, each with where it comes from (cleanlab's constants.py style).
 */

/** Underfitting threshold on per-label accuracy: the replication's value (mode-replication-slides.txt). */
export const DEFAULT_THETA = 0.92;
/** Overfitting threshold on train - validation per-label accuracy: the replication's value. */
export const DEFAULT_GAMMA = 0.1;
/** Saturation tolerance for underfitting target layers (docs/method.md section 4). */
export const DEFAULT_EPSILON = 0.005;
/** Bhattacharyya threshold between successive feature models' predictions (the replication's rule). */
export const DEFAULT_BHATTACHARYYA_THRESHOLD = 0.01;
/** Feature-model heads: Adam, 3 epochs on cached activations (docs/method.md section 4). */
export const DEFAULT_HEAD_EPOCHS = 3;
export const DEFAULT_HEAD_BATCH_SIZE = 64;
export const DEFAULT_HEAD_LEARNING_RATE = 1e-3;
/**
 * Feature-model heads train on at most this many training inputs per label (all of a rarer label),
 * drawn with the analysis' seed: a linear probe's per-label accuracy settles long before 500 inputs a
 * label, and on MNIST's 30000 it cut a CNN repair cell's activations and heads about sixfold
 * (docs/studies/speed.md). 250 was tried and cut the CNN `mode` arm's activations and heads from 7.6
 * to 4.1 s, but `mode`'s repairs got worse on the MLP (speed.md). A project choice, not the paper's;
 * 0 in the options trains on every input.
 */
export const DEFAULT_HEAD_ROWS_PER_LABEL = 500;
/**
 * The repair's bug detection after each retraining measures per-label training accuracy on at most
 * this many training inputs per label (the training set and the inputs added so far; all of a rarer
 * label), drawn with the arm's seed: on MNIST about 5,000 inputs instead of up to 33,000, and the
 * `buggy` study's conclusions held on every slice (docs/studies/speed.md). The initial model is
 * measured on the whole training set. 0: every input.
 */
export const DEFAULT_DETECT_ROWS_PER_LABEL = 500;
