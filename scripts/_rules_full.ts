import { compareRules, DEFAULT_SETUP, loadExperimentData, noiseByRule } from "../src/experiments";
(async () => {
  const t0 = performance.now();
  const data = await loadExperimentData({ ...DEFAULT_SETUP, trainImages: 50000, testImages: 10000 });
  const cells = compareRules(data.train, data.test, data.layer, { ks: [3, 5, 10], randomSeeds: Array.from({ length: 10 }, (_, i) => i), refit: true });
  for (const c of cells) console.log([c.rule, c.k, (100 * c.keep).toFixed(2), c.keepInterval ? `[${(100 * c.keepInterval.low).toFixed(2)}, ${(100 * c.keepInterval.high).toFixed(2)}]` : "", c.refit === null ? "" : (100 * c.refit).toFixed(2), c.refitInterval ? `[${(100 * c.refitInterval.low).toFixed(2)}, ${(100 * c.refitInterval.high).toFixed(2)}]` : "", (100 * c.overlap).toFixed(0), c.selectMs.toFixed(0)].join("\t"));
  console.log("seconds", ((performance.now() - t0) / 1000).toFixed(0));
})();
