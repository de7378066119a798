import { FasterChoice } from "../../src/training/faster-choice";

/** Runs `steps` steps, each way taking what `cost(way, step)` says; returns the ways chosen in order. */
function drive(choice: FasterChoice, steps: number, cost: (way: number, step: number) => number): number[] {
  const ways: number[] = [];
  for (let step = 0; step < steps; step++) {
    const way = choice.next();
    choice.record(way, cost(way, step));
    ways.push(way);
  }
  return ways;
}

describe("FasterChoice", () => {
  it("runs the ways in turn, once untimed and `trials` times timed each, then keeps to the faster", () => {
    const choice = new FasterChoice(2, { trials: 3, period: 1000 });
    // The first run of way 1 is slow (set-up) and must not count against it.
    const ways = drive(choice, 12, (way, step) => (way === 0 ? 100 : step === 1 ? 500 : 80));
    expect(ways).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1]);
    expect(choice.fastest()).toBe(1);
    expect(choice.counts()).toEqual([4, 8]);
  });

  it("takes the median, so one slow outlier does not decide", () => {
    const choice = new FasterChoice(2, { trials: 3, period: 1000 });
    const times = [[0, 90, 90, 90], [0, 80, 400, 80]];
    const seen = [0, 0];
    drive(choice, 8, (way) => times[way][seen[way]++]);
    expect(choice.fastest()).toBe(1);
  });

  it("moves to the other way as soon as the running one slows down", () => {
    const choice = new FasterChoice(2, { trials: 3, period: 1000 });
    // Way 1 (spinning, say) wins until another process arrives at step 20; then it takes 300 ms.
    const ways = drive(choice, 30, (way, step) => (way === 0 ? 150 : step < 20 ? 140 : 300));
    expect(ways.slice(8, 20).every((w) => w === 1)).toBe(true);
    // Two slow runs make the median of its last three slow; then way 0 runs.
    expect(ways.slice(20, 22)).toEqual([1, 1]);
    expect(ways.slice(22).every((w) => w === 0)).toBe(true);
  });

  it("tries the losing ways again every `period` steps and follows a change", () => {
    const choice = new FasterChoice(2, { trials: 2, period: 10 });
    // Way 0 is slower at first, faster from step 15 on; only a new trial can notice that.
    const ways = drive(choice, 40, (way, step) => (way === 0 ? (step < 15 ? 200 : 100) : 150));
    const run = (way: number, n: number) => new Array<number>(n).fill(way);
    expect(ways).toEqual([
      0, 1, 0, 1, 0, 1, // in turn: the untimed first run and two trials of each
      ...run(1, 9), // way 1 is faster; ten steps after the trials ended...
      ...run(0, 2), // ...way 0 is tried again, is faster now, and takes over
      ...run(0, 9), ...run(1, 2), // the next trial of way 1 confirms way 0
      ...run(0, 9), ...run(1, 2), run(0, 1)[0],
    ]);
  });

  it("with one way always runs it", () => {
    const choice = new FasterChoice(1);
    expect(drive(choice, 5, () => 10)).toEqual([0, 0, 0, 0, 0]);
  });

  it("rejects settings and ways that make no sense", () => {
    expect(() => new FasterChoice(0)).toThrow(/at least one way/);
    expect(() => new FasterChoice(2, { trials: 0 })).toThrow(/trials must be a positive integer/);
    expect(() => new FasterChoice(2, { period: 1.5 })).toThrow(/period must be a positive integer/);
    expect(() => new FasterChoice(2).record(2, 1)).toThrow(/way 2 is not one of 0..1/);
  });
});
