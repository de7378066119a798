/**
 * Every selection rule on a hand-made case whose answer is known, Algorithm 1 through this path equal to
 * influentialSets, the contribution score equal to integrated gradients computed by quadrature on the head, and the
 * refit of a pattern against scikit-learn's LogisticRegression (lbfgs, same penalty) on a committed fixture.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { mulberry32 } from "../../src/data/prng";
import { checkRule, classMeans, elasticNetPath, influentialSets, randomSets, refitSets, ruleScores, selectByRule, sparsePathSets, standardise, type RuleData } from "../../src/method";

/**
 * Three classes, six features. An image of class c has feature 2c at 5, feature 2c + 1 at 1 and the rest at 0.1;
 * class c's weights are 1 on 2c, 3 on 2c + 1, 0.5 elsewhere (bias 0). So the features alone point at 2c, the
 * weights alone at 2c + 1, and their product (5 x 1 against 1 x 3) at 2c again.
 */
function handMade(perClass = 4): RuleData {
  const classes = 3;
  const m = 6;
  const rows = classes * perClass;
  const data = new Float32Array(rows * m).fill(0.1);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = i % classes;
    labels[i] = c;
    data[i * m + 2 * c] = 5;
    data[i * m + 2 * c + 1] = 1;
  }
  const weight = new Float32Array(classes * m).fill(0.5);
  for (let c = 0; c < classes; c++) {
    weight[c * m + 2 * c] = 1;
    weight[c * m + 2 * c + 1] = 3;
  }
  return { features: { data, rows, cols: m }, labels, layer: { weight, bias: new Float32Array(classes), classes, features: m } };
}

describe("selection rules", () => {
  const data = handMade();
  const pick = (rule: Parameters<typeof selectByRule>[0], k = 1) => selectByRule(rule, data, { k });

  it("pick the known features of a hand-made case", () => {
    expect(pick("mean-activation")).toEqual([[0], [2], [4]]);
    expect(pick("weight")).toEqual([[1], [3], [5]]);
    expect(pick("abs-weight")).toEqual([[1], [3], [5]]);
    expect(pick("contribution")).toEqual([[0], [2], [4]]);
    // Centred on the mean over classes, each class's own features stand out most: 2c (5 - 1.77) over 2c + 1.
    expect(pick("contribution-centred")).toEqual([[0], [2], [4]]);
    // Against the strongest other class, class c gains most from its own large feature.
    expect(pick("margin")).toEqual([[0], [2], [4]]);
    expect(pick("algorithm1", 2)).toEqual([[0, 1], [2, 3], [4, 5]]);
    // One set for all, by sum_c |W[c, j]| E[f_j]: the classes' large features 0, 2, 4 tie (2 x 1.73), ahead of
    // 1, 3, 5 (4 x 0.4); the lower indices win.
    expect(pick("shared", 2)).toEqual([[0, 2], [0, 2], [0, 2]]);
    const gates = Float32Array.from({ length: 18 }, (_, i) => (i % 6 === 5 - Math.floor(i / 6) ? 1 : 0.1));
    expect(selectByRule("csg", data, { k: 1, gates })).toEqual([[5], [4], [3]]);
    // Each feature alone: class c's own 2c raises held-out accuracy to all of class c; greedy finds it.
    expect(pick("greedy")).toEqual([[0], [2], [4]]);
  });

  it("break the greedy rule's accuracy ties by the held-out log-likelihood", () => {
    // Class 0's images are [1, 2], class 1's [0, 0]; class 0's weights are 1, 1 and class 1's bias 0.5. Either
    // feature alone classifies every held-out image; feature 1 with the wider margin, so the higher likelihood.
    const rows = 20;
    const features = { data: Float32Array.from({ length: rows * 2 }, (_, q) => (Math.floor(q / 2) % 2 === 0 ? [1, 2][q % 2] : 0)), rows, cols: 2 };
    const labels = Int32Array.from({ length: rows }, (_, i) => i % 2);
    const layer = { weight: Float32Array.of(1, 1, 0, 0), bias: Float32Array.of(0, 0.5), classes: 2, features: 2 };
    expect(selectByRule("greedy", { features, labels, layer }, { k: 1, holdout: 0.5 })).toEqual([[1], [0]]);
  });

  it("score taylor-loss as |E_c[f_j dL/df_j]|, checked against a direct computation", () => {
    const scores = ruleScores("taylor-loss", data);
    const { features, labels, layer } = data;
    const m = 6;
    for (let c = 0; c < 3; c++) {
      for (let j = 0; j < m; j++) {
        let sum = 0;
        let n = 0;
        for (let i = 0; i < features.rows; i++) {
          if (labels[i] !== c) continue;
          n++;
          const f = Array.from(features.data.subarray(i * m, (i + 1) * m));
          const logits = [0, 1, 2].map((y) => f.reduce((s, v, q) => s + v * layer.weight[y * m + q], 0));
          const z = logits.reduce((s, v) => s + Math.exp(v), 0);
          const dLdf = [0, 1, 2].reduce((s, y) => s + (Math.exp(logits[y]) / z - (y === c ? 1 : 0)) * layer.weight[y * m + j], 0);
          sum += f[j] * dLdf;
        }
        expect(scores[c * m + j]).toBeCloseTo(Math.abs(sum / n), 10);
      }
    }
  });

  it("make the contribution score the logit's integrated gradients from a zero baseline (quadrature on the head)", () => {
    const { features, labels, layer } = data;
    const m = 6;
    const contribution = ruleScores("contribution", data);
    const logit = (f: number[], c: number) => layer.bias[c] + f.reduce((s, v, q) => s + v * layer.weight[c * m + q], 0);
    for (let c = 0; c < 3; c++) {
      for (let j = 0; j < m; j++) {
        // IG_j(x) = x_j * integral over alpha of d logit_c / d f_j at alpha x, by the midpoint rule and central differences.
        let total = 0;
        let n = 0;
        for (let i = 0; i < features.rows; i++) {
          if (labels[i] !== c) continue;
          n++;
          const x = Array.from(features.data.subarray(i * m, (i + 1) * m));
          let integral = 0;
          const steps = 50;
          for (let s = 0; s < steps; s++) {
            const at = x.map((v) => ((s + 0.5) / steps) * v);
            const up = [...at];
            const down = [...at];
            up[j] += 1e-4;
            down[j] -= 1e-4;
            integral += (logit(up, c) - logit(down, c)) / 2e-4 / steps;
          }
          total += x[j] * integral;
        }
        expect(contribution[c * m + j]).toBeCloseTo(total / n, 5);
      }
    }
  });

  it("draw random sets reproducibly, k distinct per class, other seeds other sets", () => {
    const a = randomSets(10, 64, 5, 3);
    expect(randomSets(10, 64, 5, 3)).toEqual(a);
    expect(randomSets(10, 64, 5, 4)).not.toEqual(a);
    for (const s of a) expect(new Set(s).size).toBe(5);
    expect(selectByRule("random", data, { k: 2, seed: 3 })).toEqual(randomSets(3, 6, 2, 3));
  });

  it("give Algorithm 1's sets through this path", () => {
    const rng = mulberry32(5);
    const rows = 300;
    const m = 16;
    const features = { data: Float32Array.from({ length: rows * m }, () => Math.max(0, rng() - 0.3)), rows, cols: m };
    const labels = Int32Array.from({ length: rows }, (_, i) => i % 4);
    const layer = { weight: Float32Array.from({ length: 4 * m }, () => rng() - 0.5), bias: new Float32Array(4), classes: 4, features: m };
    expect(selectByRule("algorithm1", { features, labels, layer }, { k: 3, k1: 5 })).toEqual(influentialSets(features, labels, { classes: 4, k1: 5, k2: 3 }).sets);
    expect(classMeans(features, labels, 4).overall.length).toBe(m);
  });

  it("refuse an unknown rule, k above the width and csg without gates, saying what to do", () => {
    expect(() => checkRule("lasso")).toThrow("unknown selection rule 'lasso'; known rules: algorithm1, random, mean-activation");
    expect(() => selectByRule("weight", data, { k: 7 })).toThrow("k must be an integer in 1..6 (the feature width is 6), got 7");
    expect(() => selectByRule("csg", data, { k: 1 })).toThrow("the csg rule needs a trained gate matrix: run decomp csg");
  });
});

describe("the refit scoring", () => {
  interface Case { features: number[][]; labels: number[]; classes: number; columns: number[]; l2: number; coef: number[][]; intercept: number[]; trainAccuracy: number }
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "refit", "logistic.json"), "utf8")) as { cases: Case[] };

  it.each(fixture.cases.map((c, i) => [i, c] as const))("case %i: agrees with scikit-learn's LogisticRegression on the same columns and penalty", (_, c) => {
    const rows = c.features.length;
    const m = c.features[0].length;
    const features = { data: Float32Array.from(c.features.flat()), rows, cols: m };
    const labels = Int32Array.from(c.labels);
    // Start from a layer of zeros: the problem is convex, so the start does not matter.
    const layer = { weight: new Float32Array(c.classes * m), bias: new Float32Array(c.classes), classes: c.classes, features: m };
    const sets = Array.from({ length: c.classes }, () => c.columns);
    const { layer: fitted, iterations } = refitSets(features, labels, layer, sets, { l2: c.l2, iterations: 1000, tolerance: 1e-8 });
    expect(iterations).toBeLessThan(1000);
    // scikit-learn's multinomial coefficients are defined up to a shift shared by the classes; compare centred.
    const centre = (rowsOf: number[][]) => rowsOf.map((r, y) => r.map((v, q) => v - rowsOf.reduce((s, rr) => s + rr[q], 0) / rowsOf.length));
    const ours = Array.from({ length: c.classes }, (_, y) => c.columns.map((j) => fitted.weight[y * m + j]));
    const theirs = c.coef;
    const a = centre(ours).flat();
    const b = centre(theirs).flat();
    const scale = b.reduce((mx, v) => Math.max(mx, Math.abs(v)), 0);
    expect(a.reduce((mx, v, i) => Math.max(mx, Math.abs(v - b[i])), 0)).toBeLessThan(1e-3 * scale);
    for (let y = 0; y < c.classes; y++) for (let j = 0; j < m; j++) if (!c.columns.includes(j)) expect(fitted.weight[y * m + j]).toBe(0);
    let correct = 0;
    for (let i = 0; i < rows; i++) {
      const logits = Array.from({ length: c.classes }, (_, y) => fitted.bias[y] + c.columns.reduce((s, j) => s + fitted.weight[y * m + j] * c.features[i][j], 0));
      if (logits.indexOf(Math.max(...logits)) === c.labels[i]) correct++;
    }
    expect(correct / rows).toBe(c.trainAccuracy);
  });
});

describe("the sparse-refit anchor's elastic-net path", () => {
  interface Point { lambda: number; coef: number[][]; intercept: number[]; trainAccuracy: number }
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "refit", "elasticnet.json"), "utf8")) as { features: number[][]; labels: number[]; classes: number; points: Point[] };
  const rows = fixture.features.length;
  const m = fixture.features[0].length;
  const features = { data: Float32Array.from(fixture.features.flat()), rows, cols: m };
  const labels = Int32Array.from(fixture.labels);

  it("has scikit-learn's non-zero pattern, weights and accuracy at matched lambdas (saga, l1_ratio 0.99)", () => {
    const ours = elasticNetPath(features, labels, fixture.classes, { lambdas: fixture.points.map((p) => p.lambda) });
    const x = standardise(features).data;
    fixture.points.forEach((p, q) => {
      const w = ours[q].weight;
      const pattern = (get: (y: number, j: number) => number) => Array.from({ length: fixture.classes }, (_, y) => Array.from({ length: m }, (_, j) => (get(y, j) !== 0 ? 1 : 0)));
      expect({ lambda: p.lambda, pattern: pattern((y, j) => w[y * m + j]) }).toEqual({ lambda: p.lambda, pattern: pattern((y, j) => p.coef[y][j]) });
      // Weights to 1e-3 of the largest: saga and our proximal gradient stop at their own tolerances.
      const scale = Math.max(...p.coef.flat().map(Math.abs));
      const gap = Math.max(...p.coef.flatMap((row, y) => row.map((v, j) => Math.abs(v - w[y * m + j]))));
      expect({ lambda: p.lambda, close: gap <= 1e-3 * scale }).toEqual({ lambda: p.lambda, close: true });
      let correct = 0;
      for (let i = 0; i < rows; i++) {
        const logits = Array.from({ length: fixture.classes }, (_, y) => ours[q].bias[y] + Array.from({ length: m }, (_, j) => w[y * m + j] * x[i * m + j]).reduce((a, b) => a + b, 0));
        if (logits.indexOf(Math.max(...logits)) === labels[i]) correct++;
      }
      expect(correct / rows).toBe(p.trainAccuracy);
    });
  });

  it("gives each class k features from the last point within the budget, or says it cannot", () => {
    // k = 1: each class's first feature to enter the path, which scikit-learn's path shows where a class first has
    // exactly one non-zero weight.
    const first = Array.from({ length: fixture.classes }, (_, y) => {
      const point = fixture.points.find((p) => p.coef[y].filter((v) => v !== 0).length > 0)!;
      const support = point.coef[y].flatMap((v, j) => (v !== 0 ? [j] : []));
      expect(support).toHaveLength(1);
      return support;
    });
    expect(sparsePathSets(features, labels, fixture.classes, 1)).toEqual(first);
    for (const set of sparsePathSets(features, labels, fixture.classes, 3)) expect(new Set(set).size).toBe(3);
    expect(() => sparsePathSets(features, labels, fixture.classes, 8, { ratio: 0.5, points: 3 })).toThrow(/sparse-refit: the elastic-net path gives class \d only \d features down to 0.5 x lambda_max; use a smaller k, or a longer path/);
  });
});
