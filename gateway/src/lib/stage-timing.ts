/**
 * Per-stage timers of a request, sent as a `Server-Timing` header (`name;dur=ms`), so a client
 * (and `npm run bench:gateway`) can tell where the gateway's own milliseconds go.
 */
export class StageTimer {
  // Built as the stages come: the header is a string per chat turn, on the way to the first token.
  private text = '';
  private last = performance.now();

  /** Records the time since the previous lap (or since the timer started) as `name`. */
  lap(name: string): void {
    const now = performance.now();
    this.push(name, now - this.last);
    this.last = now;
  }

  /** Records a duration measured elsewhere (and restarts the lap clock). */
  add(name: string, ms: number): void {
    this.push(name, ms);
    this.last = performance.now();
  }

  header(): string {
    return this.text;
  }

  private push(name: string, ms: number): void {
    // Hundredths of a millisecond, without toFixed's trailing zeros (`dur=0.1`, `dur=12`).
    this.text += `${this.text ? ', ' : ''}${name};dur=${Math.round(ms * 100) / 100}`;
  }
}
