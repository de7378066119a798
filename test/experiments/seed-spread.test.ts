import { seedSpread, seedSpreadTable } from "../../src/experiments/seed-spread";
import { PAPER_COLUMN } from "../../src/report/table";

describe("seed spreads", () => {
  it("tabulates every seed, the interval of the mean, the range and where the paper's value falls", () => {
    const spreads = [
      seedSpread("A_d, k1 = 5, k2 = 5", [0, 1, 2], [0.885, 0.8859, 0.887], "resnet20DecomposedK5"),
      seedSpread("A_d, k1 = 3, k2 = 3", [0, 1, 2], [0.80, 0.81, 0.82], "resnet20DecomposedK2is3"),
    ];
    const table = seedSpreadTable(spreads, true);
    expect(table.columns).toEqual([
      "quantity", "seed 0 (%)", "seed 1 (%)", "seed 2 (%)", "mean ± per-seed std [95 % interval] (%)", "range (%)", PAPER_COLUMN, "paper's value vs our interval",
    ]);
    const rows = table.values as unknown as unknown[][];
    expect(rows[0].slice(1, 4)).toEqual([expect.closeTo(88.5, 9), expect.closeTo(88.59, 9), expect.closeTo(88.7, 9)]);
    expect(rows[0].slice(5)).toEqual(["88.50 .. 88.70", 88.59, "inside"]);
    // 81 ± 1 [78.52, 83.48]: the paper's 84.16 lies above.
    expect(rows[1].slice(4)).toEqual(["81.00 ± 1.00 [78.52, 83.48]", "80.00 .. 82.00", 84.16, "above"]);
    expect((seedSpreadTable(spreads, false).values as unknown as unknown[][])[0].slice(6)).toEqual([null, ""]);
  });

  it("refuses values that do not match the seeds", () => {
    expect(() => seedSpread("x", [0, 1], [0.5])).toThrow("x: 2 seeds for 1 values; give one value per seed");
    expect(() => seedSpreadTable([seedSpread("a", [0, 1], [0.5, 0.6]), seedSpread("b", [0, 2], [0.5, 0.6])], true)).toThrow("same seeds");
  });
});
