/**
 * Picks, step after step, the faster of several equivalent ways to run a step, from their measured times. The
 * ways are first tried a few times each, in turn, so that a machine whose speed drifts treats them alike; then
 * the one with the lowest median of its last few times runs, and every `period` steps the others are tried
 * again, because the winner can change during a run (another process starting on the same cores, for one).
 * The running way's own times keep updating, so when it slows down the choice moves to another at once.
 */
export interface FasterChoiceOptions {
  /** Timed runs per way that the median is taken over (default 3). */
  trials?: number;
  /** Steps between two new trials of the ways that lost (default 100). */
  period?: number;
}

export class FasterChoice {
  private readonly trials: number;
  private readonly period: number;
  /** Each way's last `trials` times in ms. */
  private readonly recent: number[][];
  /** Whether each way has run once: its first run pays for allocation and kernel set-up, so it is not timed. */
  private readonly warm: boolean[];
  private readonly chosen: number[];
  private sinceTrial = 0;

  constructor(readonly ways: number, options: FasterChoiceOptions = {}) {
    this.trials = options.trials ?? 3;
    this.period = options.period ?? 100;
    if (!Number.isInteger(ways) || ways < 1) throw new Error(`FasterChoice needs at least one way, got ${ways}`);
    if (!Number.isInteger(this.trials) || this.trials < 1) throw new Error(`trials must be a positive integer, got ${this.trials}`);
    if (!Number.isInteger(this.period) || this.period < 1) throw new Error(`period must be a positive integer, got ${this.period}`);
    this.recent = Array.from({ length: ways }, () => []);
    this.warm = new Array<boolean>(ways).fill(false);
    this.chosen = new Array<number>(ways).fill(0);
  }

  /** The way to run next: while some lack trials, the one with the fewest runs (so trials interleave). */
  next(): number {
    let pick = -1;
    let fewest = Infinity;
    this.recent.forEach((times, way) => {
      const runs = (this.warm[way] ? 1 : 0) + times.length;
      if (runs < this.trials + 1 && runs < fewest) [pick, fewest] = [way, runs];
    });
    return pick >= 0 ? pick : this.fastest();
  }

  /** Report that `way` took `ms`. */
  record(way: number, ms: number): void {
    if (!(way >= 0 && way < this.ways)) throw new Error(`way ${way} is not one of 0..${this.ways - 1}`);
    this.chosen[way]++;
    if (!this.warm[way]) {
      this.warm[way] = true;
      return;
    }
    const times = this.recent[way];
    times.push(ms);
    if (times.length > this.trials) times.shift();
    if (this.recent.some((t) => t.length < this.trials)) return;
    if (++this.sinceTrial < this.period) return;
    this.sinceTrial = 0;
    const best = this.fastest();
    this.recent.forEach((t, other) => {
      if (other !== best) t.length = 0;
    });
  }

  /** Among the ways with a full set of recent times, the one with the lowest median (0 before any). */
  fastest(): number {
    let best = 0;
    let bestMedian = Infinity;
    this.recent.forEach((times, way) => {
      if (times.length < this.trials) return;
      const sorted = [...times].sort((a, b) => a - b);
      const median = sorted[sorted.length >> 1];
      if (median < bestMedian) [best, bestMedian] = [way, median];
    });
    return best;
  }

  /** How many steps each way has run, trials and untimed first runs included. */
  counts(): number[] {
    return [...this.chosen];
  }
}
