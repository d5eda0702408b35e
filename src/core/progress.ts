/**
 * Typed progress events. Library code never prints: long work reports these to an injected callback
 * and the CLI decides how to show them (a bar on a terminal, nothing otherwise).
 */
export type ProgressEvent =
  | { type: 'stage'; stage: string; message: string }
  | { type: 'epoch-start'; stage: string; epoch: number; epochs: number; batches: number }
  | { type: 'batch'; stage: string; epoch: number; batch: number; batches: number; loss: number }
  | { type: 'epoch-end'; stage: string; epoch: number; epochs: number; loss: number; accuracy: number }
  | { type: 'done'; stage: string; seconds: number };

export type ProgressCallback = (event: ProgressEvent) => void;

export const noProgress: ProgressCallback = () => {};
