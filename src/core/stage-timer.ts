/** Seconds of wall time per named stage of a computation, accumulated over calls (for manifests and profiles). */
export class StageTimer {
  readonly seconds: Record<string, number> = {};

  /** Runs `work`, adding its wall time to `stage`, and returns its result. */
  async time<T>(stage: string, work: () => Promise<T> | T): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.add(stage, (performance.now() - started) / 1000);
    }
  }

  add(stage: string, seconds: number): void {
    this.seconds[stage] = (this.seconds[stage] ?? 0) + seconds;
  }

  /** Adds every stage of another record of seconds. */
  addAll(seconds: Readonly<Record<string, number>>): void {
    for (const [stage, s] of Object.entries(seconds)) this.add(stage, s);
  }
}
