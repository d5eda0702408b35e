/**
 * Memory kept from one use to the next. A repair arm needs a few hundred MB at a time, again and
 * again: the first conv layer's features for the heads' sample, the pool's vectors that `mode`
 * scores, then the retraining set. Faulting in new pages for each took longer than computing what
 * goes in them, and two sweep workers doing so at once slowed each other down
 * (docs/studies/speed.md). One array, grown to the largest request (by at least a quarter, so that a
 * request growing a little each iteration does not make it anew each time); a request's views are
 * valid until the next request.
 */
import { collectGarbage } from './memory.js';

export class Scratch {
  private buffer = new Float32Array(0);

  /** Consecutive views of the scratch, of these lengths. */
  views(lengths: readonly number[]): Float32Array[] {
    const total = lengths.reduce((a, b) => a + b, 0);
    if (total > this.buffer.length) {
      const grown = Math.max(total, Math.ceil(this.buffer.length * 1.25));
      this.buffer = new Float32Array(0); // the old array can go before the new one is allocated
      collectGarbage();
      this.buffer = new Float32Array(grown);
    }
    let at = 0;
    return lengths.map((length) => {
      at += length;
      return this.buffer.subarray(at - length, at);
    });
  }
}
