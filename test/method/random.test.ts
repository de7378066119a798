import { normalSampler } from "../../src/method/random";

describe("seeded randomness", () => {
  it("repeats a stream for a seed and differs across seeds", () => {
    const a = normalSampler(42);
    const b = normalSampler(42);
    const c = normalSampler(43);
    const sa = Array.from({ length: 101 }, () => a());
    expect(Array.from({ length: 101 }, () => b())).toEqual(sa);
    expect(Array.from({ length: 101 }, () => c())).not.toEqual(sa);
    for (const x of sa) expect(Number.isFinite(x)).toBe(true);
  });

  it("draws standard normal samples", () => {
    const next = normalSampler(1);
    const n = 1_000_000;
    let sum = 0;
    let squares = 0;
    let beyondTwo = 0;
    for (let i = 0; i < n; i++) {
      const x = next();
      sum += x;
      squares += x * x;
      if (Math.abs(x) > 2) beyondTwo++;
    }
    const mean = sum / n;
    // Standard error of the mean is 0.001, of the variance about 0.0014.
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(Math.abs(Math.sqrt(squares / n - mean * mean) - 1)).toBeLessThan(0.005);
    // P(|Z| > 2) = 0.0455
    expect(Math.abs(beyondTwo / n - 0.0455)).toBeLessThan(0.002);
  });

  it("rejects non-integer seeds", () => {
    expect(() => normalSampler(0.5)).toThrow("seed must be an integer, got 0.5");
  });
});
