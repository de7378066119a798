import { PNG } from "pngjs";
import { makeImageSet } from "../../src/data/image-set";
import { activationEnergy, contrastChannels, gatherImages, pickCorrectImages, sampleImagesPerClass } from "../../src/experiments/visualization";
import { channelMap, spatialMean } from "../../src/method/maps";
import { classMapFigure, classMapRows, energyChart, energyTable } from "../../src/experiments/visualization-report";
import { influentialSets, type InfluentialSets } from "../../src/method";
import { syntheticSplit } from "./synthetic";

describe("channel contrast", () => {
  it("takes S_y in rank order and the lowest-ranked channels of the class histogram, lowest first", () => {
    const rows = [
      [0, 9, 0, 8, 0, 0],
      [0, 9, 0, 8, 0, 0],
      [0, 8, 0, 9, 1, 0],
      [2, 8, 0, 9, 3, 0],
      [0, 0, 8, 0, 0, 9],
      [0, 0, 8, 0, 0, 9],
    ];
    const features = { data: Float32Array.from(rows.flat()), rows: 6, cols: 6 };
    const labels = Uint8Array.from([0, 0, 0, 0, 1, 1]);
    // k1 = 3: rows 0-1 pick 1, 3 and then the lowest-index zero (0); rows 2-3 pick 3, 1, 4; so class 0 ranks
    // 1, 3 (4 each), 0, 4 (2 each), 2, 5 (0 each). Class 1 picks 5, 2, 0 twice: ranking 0, 2, 5, 1, 3, 4.
    const influence = influentialSets(features, labels, { classes: 2, k1: 3, k2: 2 });
    expect(Array.from(influence.perClass[0].counts)).toEqual([2, 4, 0, 4, 2, 0]);
    const [c0, c1] = contrastChannels(influence, 2);
    expect(c0).toEqual({ influential: [1, 3], nonInfluential: [5, 2], nonInfluentialRanks: [6, 5] });
    expect(c1.influential).toEqual([0, 2]);
    expect(c1.nonInfluential).toEqual([4, 3]);
    expect(() => contrastChannels(influence, 3)).toThrow("channels per group must be an integer in 1..k2 = 2, got 3");
    const wide = influentialSets(features, labels, { classes: 2, k1: 3, k2: 4 });
    expect(() => contrastChannels(wide, 4)).toThrow("4 influential and 4 non-influential channels need 8 channels; the features have 6");
  });
});

describe("image choice", () => {
  const labels = Uint8Array.from([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  const predictions = Int32Array.from([0, 1, 1, 1, 0, 0, 0, 1, 0, 1]);

  it("draws only correctly classified images of each class, reproducibly per seed", () => {
    const picked = pickCorrectImages(labels, predictions, 2, 2, 7);
    expect(picked).toHaveLength(2);
    for (const i of picked[0]) expect([0, 4, 6, 8]).toContain(i);
    for (const i of picked[1]) expect([1, 3, 7, 9]).toContain(i);
    expect(new Set(picked[0]).size).toBe(2);
    expect(pickCorrectImages(labels, predictions, 2, 2, 7)).toEqual(picked);
    // All correct images of a class are a permutation of the pool; different seeds give different orders.
    const all = [0, 1, 2, 3, 4].map((s) => pickCorrectImages(labels, predictions, 2, 4, s)[0]);
    for (const p of all) expect([...p].sort((a, b) => a - b)).toEqual([0, 4, 6, 8]);
    expect(new Set(all.map((p) => p.join(","))).size).toBeGreaterThan(1);
  });

  it("says what to change when a class has too few correct images", () => {
    expect(() => pickCorrectImages(labels, predictions, 2, 5, 0)).toThrow(
      "class 0 has 4 correctly classified images, fewer than the 5 asked for; use more test images or fewer per class",
    );
    expect(() => pickCorrectImages(labels, predictions.subarray(1), 2, 1, 0)).toThrow("10 labels but 9 predictions");
  });

  it("samples any image of each class, seeded, in position order, and the whole class when it has fewer", () => {
    const a = sampleImagesPerClass(labels, 2, 3, 4);
    expect(a.map((s) => s.length)).toEqual([3, 3]);
    for (const i of a[0]) expect(labels[i]).toBe(0);
    for (const i of a[1]) expect(labels[i]).toBe(1);
    expect(a[0]).toEqual([...a[0]].sort((x, y) => x - y));
    expect(sampleImagesPerClass(labels, 2, 3, 4)).toEqual(a);
    expect([0, 1, 2, 3, 5].map((s) => sampleImagesPerClass(labels, 2, 3, s)[0].join(",")).some((s) => s !== a[0].join(","))).toBe(true);
    expect(sampleImagesPerClass(labels, 2, 1000, 0)).toEqual([[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]);
    expect(() => sampleImagesPerClass(labels, 1, 1, 0)).toThrow("label 1 at position 1 is outside 0..0");
    expect(() => sampleImagesPerClass(labels, 2, 0, 0)).toThrow("images per class must be a positive integer, got 0");
  });

  it("gathers the chosen images' pixels in order", () => {
    const pixels = new Uint8Array(3 * 3072);
    for (let n = 0; n < 3; n++) pixels.fill(10 * (n + 1), n * 3072, (n + 1) * 3072);
    const batch = gatherImages(makeImageSet(pixels, Uint8Array.from([0, 1, 2])), [2, 0]);
    expect(batch.count).toBe(2);
    expect([batch.pixels[0], batch.pixels[3072]]).toEqual([30, 10]);
    expect(() => gatherImages(makeImageSet(pixels, Uint8Array.from([0, 1, 2])), [3])).toThrow("image index 3 is outside 0..2");
  });
});

describe("maps", () => {
  // 2 images of 2x2 maps with 3 channels; value = 100 * image + 10 * channel + pixel.
  const data = new Float32Array(2 * 4 * 3);
  for (let n = 0; n < 2; n++) for (let p = 0; p < 4; p++) for (let c = 0; c < 3; c++) data[(n * 4 + p) * 3 + c] = 100 * n + 10 * c + p;
  const maps = { count: 2, height: 2, width: 2, channels: 3, data, tensor: "t" };

  it("reads one channel's map and pools every channel", () => {
    expect(Array.from(channelMap(maps, 1, 2))).toEqual([120, 121, 122, 123]);
    expect(Array.from(spatialMean(maps))).toEqual([1.5, 11.5, 21.5, 101.5, 111.5, 121.5]);
    expect(() => channelMap(maps, 2, 0)).toThrow("no map for image 2 channel 0: the maps hold 2 images x 3 channels");
  });

  it("builds a class figure: one row per image with a shared scale, a PNG with header and caption", () => {
    const pixels = new Uint8Array(2 * 3072).fill(200);
    const contrast = { influential: [2], nonInfluential: [0], nonInfluentialRanks: [3] };
    const rows = classMapRows(maps, pixels, [1], [42], contrast);
    expect(rows).toHaveLength(1);
    expect(rows[0].testIndex).toBe(42);
    expect(rows[0].max).toBe(123);
    expect(Array.from(rows[0].nonInfluential[0])).toEqual([100, 101, 102, 103]);
    const bundle = classMapFigure("cat", contrast, rows, 2, "t");
    const png = PNG.sync.read(Buffer.from(bundle["image/png"] as string, "base64"));
    // Header bar (6) and one row of 64 px tiles, 2 px gaps: 2 + 6 + 2 + 64 + 2; image, map, spacer, map.
    expect([png.width, png.height]).toEqual([2 + 64 + 2 + 64 + 2 + 12 + 2 + 64 + 2, 76]);
    // The influential map's brightest pixel is the row maximum (white); the other map is darker.
    const at = (x: number, y: number) => png.data[(y * png.width + x) * 4];
    expect(at(2 + 64 + 2 + 63, 2 + 6 + 2 + 63)).toBe(255);
    expect(at(png.width - 3, 2 + 6 + 2 + 63)).toBe(Math.round((255 * 103) / 123));
    expect(at(2 + 64 + 2, 2)).toBe(0xd9); // the influential group's header bar
    expect(bundle["text/html"]).toContain("ch 2 (#1)");
    expect(bundle["text/html"]).toContain("ch 0 (#3)");
    expect(bundle["text/html"]).toContain("test #42: 0..123.00");
    expect(() => classMapRows(maps, pixels.subarray(1), [0], [0], contrast)).toThrow(/pass the batch the maps came from/);
  });
});

describe("activation energy", () => {
  // 4 channels, 2 classes. S_0 = [0], S_1 = [3]; lowest drawn: class 0 -> [3], class 1 -> [0].
  const rows = [
    [4, 1, 1, 0], // class 0: S mean 4, others mean 2/3, lowest 0, S > others
    [1, 2, 3, 1], // class 0: S mean 1, others 2, lowest 1, S < others
    [0, 1, 1, 6], // class 1: S 6, others 2/3, lowest 0
  ];
  const features = { data: Float32Array.from(rows.flat()), rows: 3, cols: 4 };
  const labels = Uint8Array.from([0, 0, 1]);

  it("averages group means over each class's images and counts images where S_y leads", () => {
    const [e0, e1] = activationEnergy(features, labels, [[0], [3]], [[3], [0]]);
    expect(e0.images).toBe(2);
    expect(e0.influentialMean).toBeCloseTo(2.5, 12);
    expect(e0.othersMean).toBeCloseTo((2 / 3 + 2) / 2, 6);
    expect(e0.lowestMean).toBeCloseTo(0.5, 12);
    expect(e0.influentialOnOtherClasses).toBe(0);
    expect(e0.influentialAboveOthers).toBe(0.5);
    expect(e1.influentialMean).toBe(6);
    expect(e1.influentialOnOtherClasses).toBeCloseTo(0.5, 12);
    expect(e1.influentialAboveOthers).toBe(1);
  });

  it("makes a table and a grouped bar chart of the same numbers", () => {
    const energies = activationEnergy(features, labels, [[0], [3]], [[3], [0]]);
    const table = energyTable(energies, ["a", "b"], 1, 1);
    expect(table.columns).toHaveLength(8);
    expect(table.values[1]).toEqual(["b", 1, 6, expect.closeTo(2 / 3, 6), 0, expect.closeTo(9, 6), expect.closeTo(0.5, 12), 100]);
    const chart = energyChart(energies, ["a", "b"], 1) as { data: { values: { className: string; group: string; value: number }[] } };
    expect(chart.data.values).toHaveLength(8);
    expect(chart.data.values.find((v) => v.className === "b" && v.group === "S_y on class images")!.value).toBe(6);
  });

  it("rejects mismatched inputs", () => {
    expect(() => activationEnergy(features, labels.subarray(1), [[0], [3]], [[3], [0]])).toThrow("3 feature rows but 2 labels");
    expect(() => activationEnergy(features, labels, [[0], [3]], [[3]])).toThrow("2 influential sets but 1 non-influential lists");
    expect(() => activationEnergy(features, Uint8Array.from([0, 0, 0]), [[0], [3]], [[3], [0]])).toThrow("class 1 has no images among the 3 given");
  });

  it("on class-structured synthetic features, S_y responds more on its class than the other channels", () => {
    const split = syntheticSplit(3, 400, 16, 4);
    const influence: InfluentialSets = influentialSets(split.features, split.labels, { classes: 4, k1: 3, k2: 3 });
    const lowest = contrastChannels(influence, 3).map((c) => c.nonInfluential);
    for (const e of activationEnergy(split.features, split.labels, influence.sets, lowest)) {
      expect(e.influentialMean).toBeGreaterThan(e.othersMean);
      expect(e.influentialMean).toBeGreaterThan(e.influentialOnOtherClasses);
      expect(e.influentialAboveOthers).toBeGreaterThan(0.5);
    }
  });
});
