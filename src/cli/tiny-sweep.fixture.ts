/** Test fixture: the tiny sweep the CLI tests run, and how to compare two stores' rows. */

/** 2 seeds x 2 strategies, batch 20, 2 iterations of an MLP on 3 noisy synthetic classes: a store in a few seconds. */
export const TINY_SWEEP = {
  datasets: ['synthetic:classes=3,size=8,n=1200,noise=0.9'],
  models: ['mlp'],
  trainSizes: [{ train: 400, validation: 200, pool: 400 }],
  epochs: [3],
  seeds: 2,
  strategies: ['mode', 'targeted-random'],
  batches: [20],
  iterations: [2],
  theta: 1,
  earlyStop: false,
};

/** A store's cells and iterations in a fixed order, the same SQL on SQLite and (with `mode.`) PostgreSQL. */
export const CELL_ROWS = 'SELECT key, model_key, label, config, result FROM cells ORDER BY key';
export const ITERATION_ROWS =
  'SELECT cell_key, arm, iteration, target_label, validation_accuracy, test_accuracy, per_label, share_already_correct FROM iterations ' +
  'ORDER BY cell_key, arm, iteration';

/** A row without where its machine kept the model (repair.json's `model`), which differs between stores. */
export const withoutModelPath = (row: Record<string, unknown>): unknown =>
  typeof row.result === 'string' ? { ...row, result: row.result.replace(/"model":"[^"]*"/, '"model":"..."') } : row;
