/**
 * Per-stage timers of a request, sent as a `Server-Timing` header (`name;dur=ms`), so a client
 * (and `npm run bench:gateway`) can tell where the gateway's own milliseconds go.
 */
export class StageTimer {
  private readonly stages: [string, number][] = [];
  private last = performance.now();

  /** Records the time since the previous lap (or since the timer started) as `name`. */
  lap(name: string): void {
    const now = performance.now();
    this.stages.push([name, now - this.last]);
    this.last = now;
  }

  /** Records a duration measured elsewhere (and restarts the lap clock). */
  add(name: string, ms: number): void {
    this.stages.push([name, ms]);
    this.last = performance.now();
  }

  header(): string {
    return this.stages.map(([name, ms]) => `${name};dur=${ms.toFixed(2)}`).join(', ');
  }
}
