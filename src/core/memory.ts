/**
 * Frees unreachable memory now, where the process allows it (node --expose-gc: sweep workers run so).
 * A repair drops hundreds of megabytes of typed arrays at a time (a dataset once split, a layer's
 * activations once its head is trained), and V8 may put off collecting them while the next ones are
 * allocated, so a worker's peak memory would be the sum of both. Elsewhere this does nothing.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
