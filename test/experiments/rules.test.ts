/**
 * Notebook 08's comparison on synthetic features with a known structure: every rule at every k, Algorithm 1 the
 * reference of the overlaps, random sets as a mean with an interval, refits that never lose to the kept weights on
 * the training data's own structure, the table with the paper's values beside Algorithm 1, and conclusions
 * computed from the cells.
 */
import { compareRules, noiseByRule, rulesConclusion, rulesTable, type RuleCell } from "../../src/experiments";
import { mulberry32 } from "../../src/data/prng";
import { PAPER_COLUMN } from "../../src/report";

/** Four classes over twelve features: class c's images are large on features 3c..3c+2, and so are its weights. */
function synthetic(rows: number, seed: number) {
  const rng = mulberry32(seed);
  const m = 12;
  const data = new Float32Array(rows * m);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = i % 4;
    labels[i] = c;
    for (let j = 0; j < m; j++) data[i * m + j] = Math.max(0, (Math.floor(j / 3) === c ? 2 : 0.3) + 0.6 * (rng() - 0.5));
  }
  return { features: { data, rows, cols: m }, labels };
}

describe("selection rules head to head", () => {
  const train = synthetic(400, 1);
  const test = synthetic(200, 2);
  const rng = mulberry32(3);
  const weight = Float32Array.from({ length: 48 }, (_, i) => (Math.floor((i % 12) / 3) === Math.floor(i / 12) ? 1 + rng() : 0.2 * (rng() - 0.5)));
  const layer = { weight, bias: new Float32Array(4), classes: 4, features: 12 };

  it("scores every rule at every k, kept and refitted, with random as an interval", () => {
    const cells = compareRules(train, test, layer, { ks: [1, 3], randomSeeds: [0, 1, 2], refit: true });
    expect(cells.map((c) => `${c.rule}@${c.k}`)).toEqual([1, 3].flatMap((k) => ["algorithm1", "random", "mean-activation", "weight", "abs-weight", "contribution", "contribution-centred", "margin", "taylor-loss", "greedy", "shared", "sparse-refit"].map((r) => `${r}@${k}`)));
    const at = (rule: string, k: number) => cells.find((c) => c.rule === rule && c.k === k)!;
    expect(at("algorithm1", 3).overlap).toBe(1);
    // Every class's own three features carry it: the informed rules find them all at k = 3 and classify the test set.
    for (const rule of ["algorithm1", "mean-activation", "weight", "contribution"]) expect({ rule, sets: at(rule, 3).sets, keep: at(rule, 3).keep }).toEqual({ rule, sets: [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]].map((s) => expect.arrayContaining(s)), keep: 1 });
    const random = at("random", 1);
    expect(random.keepInterval!.low).toBeLessThanOrEqual(random.keep);
    expect(random.keepInterval!.n).toBe(3);
    expect(random.refit).not.toBeNull();
    const table = rulesTable(cells, [1, 3], true);
    expect(table.columns).toContain(PAPER_COLUMN);
    // k = 1 and 3: the paper prints Algorithm 1's A_d at k = 3 (84.16) for ResNet20.
    const rows = table.values as unknown as unknown[][];
    expect(rows.filter((r) => r[0] === "algorithm1").map((r) => r[table.columns.indexOf(PAPER_COLUMN)])).toEqual([null, 84.16]);
    const conclusion = rulesConclusion(cells, [3]);
    const interval = at("random", 3).keepInterval!;
    const versusRandom = 1 > interval.high ? `${(100 * (1 - interval.high)).toFixed(2)} points above random sets' 95 % interval` : `not above random sets' 95 % interval (up to ${(100 * interval.high).toFixed(2)} %)`;
    expect(conclusion.split("\n\n")[0]).toBe(`**Kept weights** — k = 3: algorithm1 100.00 %, ${versusRandom}; Algorithm 1 is the best.`);
    // Feature 11 made constant never enters the elastic-net path, so no class gets all 12: that cell says why.
    const flat = { ...train, features: { ...train.features, data: train.features.data.map((v, i) => (i % 12 === 11 ? 1 : v)) } };
    const [, whole] = compareRules(flat, test, layer, { ks: [12], rules: ["algorithm1", "sparse-refit"], randomSeeds: [], refit: true });
    expect([whole.rule, whole.keep, whole.note]).toEqual(["sparse-refit", NaN, expect.stringMatching(/^sparse-refit: the elastic-net path gives class \d only \d+ features down to 0\.001 x lambda_max/)]);
    expect((rulesTable([whole], [12], false).values as unknown as unknown[][])[0].slice(-1)).toEqual([whole.note]);
    const noise = noiseByRule(cells, 3, test, layer, [0, 1]);
    expect(noise.find((n) => n.rule === "algorithm1")!.influential.mean).toBeLessThan(noise.find((n) => n.rule === "algorithm1")!.others.mean);
  });

  it("words the gaps in its conclusion by their sign: Algorithm 1 below the best, above or level with sparse-refit", () => {
    const cell = (rule: RuleCell["rule"], keep: number, refit: number): RuleCell =>
      ({ rule, k: 5, keep, keepInterval: null, refit, refitInterval: null, overlap: 1, selectMs: 0, sets: [], note: null });
    const refitAbove = [cell("algorithm1", 0.8859, 0.9146), cell("weight", 0.889, 0.9147), cell("sparse-refit", 0.86, 0.9139)];
    expect(rulesConclusion(refitAbove, [5]).split("\n\n")).toEqual([
      "**Kept weights** — k = 5: weight 88.90 %; Algorithm 1 0.31 points below.",
      "**Refitted** — k = 5: weight 91.47 %; Algorithm 1 0.01 points below; against sparse-refit (91.39 %, the upper reference) Algorithm 1's pattern is 0.07 points above.",
    ]);
    const level = [cell("algorithm1", 0.9, 0.92), cell("sparse-refit", 0.85, 0.92)];
    expect(rulesConclusion(level, [5]).split("\n\n")[1]).toBe("**Refitted** — k = 5: algorithm1 92.00 %; Algorithm 1 is the best; against sparse-refit (92.00 %, the upper reference) Algorithm 1's pattern is level with it.");
  });
});
