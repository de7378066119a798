import { PNG } from "pngjs";
import { IMAGE_BYTES } from "../../src/data/image-set";
import { faithfulnessConclusion, faithfulnessCurves, imageMaps, MAP_NAMES, meanCurves, mostFaithful, summariseAreas, type ImageMaps } from "../../src/experiments/faithfulness";
import { faithfulnessChart, faithfulnessTable, overlayFigure } from "../../src/experiments/visualization-report";
import { centredChannelMean, classActivationMap, normaliseMap, randomMap, upsampleBilinear } from "../../src/method/maps";
import type { ForwardEngine } from "../../src/models/engine";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import { mulberry32 } from "../../src/data/prng";

/**
 * A toy two-class model that reads only the red channel of a fixed set of pixels: logit 0 = their mean red
 * value (normalised input), logit 1 = 0. Counts the images it was given.
 */
function toyEngine(read: Set<number>): ForwardEngine & { calls: number[] } {
  const calls: number[] = [];
  return {
    backend: "toy",
    spec: cifarResNetSpec(20, 2),
    calls,
    async forward(images: Float32Array, count: number) {
      calls.push(count);
      const logits = new Float32Array(count * 2);
      for (let n = 0; n < count; n++) {
        let s = 0;
        for (const p of read) s += images[n * IMAGE_BYTES + p * 3];
        logits[n * 2] = (4 * s) / read.size;
      }
      return { features: new Float32Array(count), logits };
    },
    dispose() {},
  };
}

// Dark images with bright red dots at the pixels the toy model reads; the blur smears the dots away.
const read = new Set<number>();
for (let y = 2; y < 32; y += 6) for (let x = 3; x < 32; x += 7) read.add(y * 32 + x);
function dottedImages(count: number, seed: number): Uint8Array {
  const rng = mulberry32(seed);
  const pixels = new Uint8Array(count * IMAGE_BYTES);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(rng() * 40);
  for (let n = 0; n < count; n++) for (const p of read) pixels[n * IMAGE_BYTES + p * 3] = 255;
  return pixels;
}

function toyMaps(count: number): ImageMaps[] {
  return Array.from({ length: count }, (_, n) => {
    const truth = Float32Array.from({ length: 1024 }, (_, p) => (read.has(p) ? 1 : 0));
    return {
      influential: truth,
      "non-influential": Float32Array.from(truth, (v) => 1 - v),
      CAM: truth,
      random: normaliseMap(upsampleBilinear(randomMap(n + 1, 8, 8), 8, 8, 32, 32)),
    };
  });
}

describe("deletion and insertion curves", () => {
  const count = 6;
  const images = { count, pixels: dottedImages(count, 1) };
  const targets = new Array(count).fill(0);

  it("fall faster and rise faster for a map that ranks exactly the pixels the model reads than for a random map", async () => {
    const engine = toyEngine(read);
    const result = await faithfulnessCurves({ engine, norm: "cifar", images, targets, maps: toyMaps(count), batchSize: 64 });
    expect(result.fractions).toHaveLength(21);
    expect(result.fractions[1]).toBeCloseTo(0.05, 12);
    // 2 shared end points + 4 maps x 2 curves x 19 inner points per image, in batches of at most 64.
    expect(engine.calls.reduce((a, b) => a + b, 0)).toBe(count * (2 + 4 * 2 * 19));
    expect(Math.max(...engine.calls)).toBe(64);
    const area = (m: (typeof MAP_NAMES)[number], k: "deletion" | "insertion") => summariseAreas(result).find((s) => s.map === m && s.kind === k)!;
    expect(area("influential", "deletion").mean).toBeLessThan(area("random", "deletion").mean - 0.1);
    expect(area("influential", "insertion").mean).toBeGreaterThan(area("random", "insertion").mean + 0.1);
    expect(area("non-influential", "deletion").mean).toBeGreaterThan(area("random", "deletion").mean);
    // Every map's curves share their end points: the image itself and the fully blurred copy.
    for (const m of MAP_NAMES) {
      const d = result.curves[m].deletion;
      const i = result.curves[m].insertion;
      expect(d[0]).toBe(result.curves.influential.deletion[0]);
      expect(d[20]).toBe(i[0]);
      expect(i[20]).toBe(d[0]);
    }
    expect(result.curves.influential.deletion[0]).toBeGreaterThan(0.9);
    expect(result.curves.influential.deletion[20]).toBeLessThan(0.5);
    // The influential map removes every read pixel within the first 5 % (30 of 1024 pixels < 51).
    expect(result.curves.influential.deletion[1]).toBe(result.curves.influential.deletion[20]);

    const [del, ins] = mostFaithful(result);
    expect(del.best === "influential" || del.best === "CAM").toBe(true);
    expect(del.margin).toBe(0); // influential and CAM are the same map here: a tie, not a lead
    expect(del.beyondNoise).toBe(false);
    expect(ins.kind).toBe("insertion");
    expect(faithfulnessConclusion(result)).toContain("within twice its standard error");
    const table = faithfulnessTable(summariseAreas(result));
    expect(table.values.map((r) => (r as unknown[])[0])).toEqual([...MAP_NAMES]);
    expect(meanCurves(result)).toHaveLength(4 * 2 * 21);
    expect((faithfulnessChart(result) as { data: { values: unknown[] } }).data.values).toHaveLength(168);
  });

  it("gives the same curves whatever the batch size", async () => {
    const a = await faithfulnessCurves({ engine: toyEngine(read), norm: "cifar", images, targets, maps: toyMaps(count), batchSize: 7 });
    const b = await faithfulnessCurves({ engine: toyEngine(read), norm: "cifar", images, targets, maps: toyMaps(count), batchSize: 1000 });
    for (const m of MAP_NAMES) expect(Array.from(a.curves[m].insertion)).toEqual(Array.from(b.curves[m].insertion));
  });

  it("refuses inputs that do not line up", async () => {
    const engine = toyEngine(read);
    await expect(faithfulnessCurves({ engine, norm: "cifar", images, targets: [0], maps: toyMaps(count) })).rejects.toThrow("6 images need as many targets and map sets; got 1 and 6");
    const small = toyMaps(count);
    small[2] = { ...small[2], CAM: new Float32Array(64) };
    await expect(faithfulnessCurves({ engine, norm: "cifar", images, targets, maps: small })).rejects.toThrow("image 2's CAM map has 64 values; the input has 32 x 32 pixels");
  });
});

describe("image maps", () => {
  // 2 images of 2 x 2 maps with 4 channels, seeded values.
  const rng = mulberry32(5);
  const maps = { count: 2, height: 2, width: 2, channels: 4, data: Float32Array.from({ length: 32 }, () => rng() * 3), tensor: "t" };
  const layer = { weight: Float32Array.from({ length: 8 }, (_, i) => i - 3), bias: new Float32Array(2), classes: 2, features: 4 };
  const opts = { influential: [[0, 1], [2, 3]], nonInfluential: [[3, 2], [1, 0]], layer, inputSize: [4, 4] as [number, number], seed: 9 };

  it("combines, upsamples and normalises each map of the target class", () => {
    const m = imageMaps(maps, 1, 1, opts);
    const up = (x: Float32Array) => Array.from(normaliseMap(upsampleBilinear(x, 2, 2, 4, 4)));
    expect(Array.from(m.influential)).toEqual(up(centredChannelMean(maps, 1, [2, 3])));
    expect(Array.from(m["non-influential"])).toEqual(up(centredChannelMean(maps, 1, [1, 0])));
    expect(Array.from(m.CAM)).toEqual(up(classActivationMap(maps, 1, layer.weight.subarray(4, 8))));
    expect(Math.min(...m.CAM)).toBe(0);
    expect(Math.max(...m.CAM)).toBe(1);
    expect(Array.from(imageMaps(maps, 1, 1, opts).random)).toEqual(Array.from(m.random));
    expect(Array.from(imageMaps(maps, 0, 1, opts).random)).not.toEqual(Array.from(m.random));
    expect(() => imageMaps(maps, 0, 2, opts)).toThrow("class 2 is outside 0..1");
  });
});

describe("overlay figure", () => {
  it("lays out class, image and one overlay per column, each tile tagged with its size", () => {
    const pixels = new Uint8Array(IMAGE_BYTES).fill(100);
    const ramp = Float32Array.from({ length: 1024 }, (_, p) => p / 1023);
    const rows = [0, 1].map((k) => ({ className: k ? "cat" : "dog", testIndex: 10 + k, pixels, maps: [ramp, ramp, ramp] }));
    const bundle = overlayFigure(rows, ["standard", "non-influential", "influential"], [32, 32], 0.5, "caption");
    const html = bundle["text/html"] as string;
    expect(html.match(/<img /g)).toHaveLength(8);
    expect(html.match(/data-expected-width="96" data-expected-height="96"/g)).toHaveLength(8);
    expect(html).toContain("<th style=\"text-align:center\">non-influential</th>");
    expect(html).toContain("cat<br><small>test #11</small>");
    const grid = PNG.sync.read(Buffer.from(bundle["image/png"] as string, "base64"));
    expect([grid.width, grid.height]).toEqual([2 + 4 * (96 + 2), 2 + 2 * (96 + 2)]);
    // The first overlay's top-left pixel is the grey image half-blended with viridis(0).
    const at = (x: number, y: number) => Array.from(grid.data.subarray((y * grid.width + x) * 4, (y * grid.width + x) * 4 + 3));
    expect(at(2 + 98, 2)).toEqual([84, 51, 92]);
    expect(() => overlayFigure([{ ...rows[0], maps: [ramp] }], ["a", "b"], [32, 32], 0.5, "c")).toThrow("test image #10 has 1 maps for 2 columns");
  });
});
