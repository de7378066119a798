import * as fs from "fs";
import * as path from "path";
import { centredChannelMean, classActivationMap, normaliseMap, randomMap, spatialMean, upsampleBilinear } from "../../src/method/maps";

// 1 image, 2 x 2 maps, 3 channels: channel 0 = [1, 2, 3, 6], channel 1 = [0, 0, 4, 0], channel 2 = [5, 5, 5, 5].
const planes = [
  [1, 2, 3, 6],
  [0, 0, 4, 0],
  [5, 5, 5, 5],
];
const data = new Float32Array(12);
planes.forEach((plane, c) => plane.forEach((v, p) => (data[p * 3 + c] = v)));
const maps = { count: 1, height: 2, width: 2, channels: 3, data, tensor: "t" };

describe("combined maps", () => {
  it("centres each chosen channel on its pooled value and averages them (hand-computed)", () => {
    // Channel 0 mean 3 -> [-2, -1, 0, 3]; channel 1 mean 1 -> [-1, -1, 3, -1]; their average:
    expect(Array.from(centredChannelMean(maps, 0, [0, 1]))).toEqual([-1.5, -1, 1.5, 1]);
    // A constant channel contributes nothing, whatever its level.
    expect(Array.from(centredChannelMean(maps, 0, [2]))).toEqual([0, 0, 0, 0]);
    expect(() => centredChannelMean(maps, 0, [])).toThrow("at least one channel");
    expect(() => centredChannelMean(maps, 0, [3])).toThrow("channel 3 is outside 0..2");
    expect(() => centredChannelMean(maps, 1, [0])).toThrow("no maps for image 1: the maps hold 1 images");
  });

  it("weights every channel by W[y] for the class activation map, whose mean plus b_y is the logit", () => {
    const w = [0.5, -1, 2];
    const cam = classActivationMap(maps, 0, w);
    expect(Array.from(cam)).toEqual([10.5, 11, 7.5, 13]);
    const pooled = spatialMean(maps);
    const logitWithoutBias = w.reduce((s, wj, j) => s + wj * pooled[j], 0);
    expect(cam.reduce((s, v) => s + v, 0) / 4).toBeCloseTo(logitWithoutBias, 6);
    expect(() => classActivationMap(maps, 0, [1, 2])).toThrow("3 channels, 2 weights");
  });
});

describe("bilinear upsampling", () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "../fixtures/maps/bilinear.json"), "utf8")) as {
    cases: { height: number; width: number; outHeight: number; outWidth: number; input: number[]; output: number[] }[];
  };

  it.each(fixture.cases.map((c) => [`${c.height}x${c.width} -> ${c.outHeight}x${c.outWidth}`, c] as const))(
    "equals PyTorch's interpolate(mode='bilinear', align_corners=False) for %s",
    (_, c) => {
      const ours = upsampleBilinear(c.input, c.height, c.width, c.outHeight, c.outWidth);
      expect(ours).toHaveLength(c.output.length);
      let worst = 0;
      ours.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - c.output[i]))));
      expect(worst).toBeLessThan(1e-5);
    },
  );

  it("keeps a constant map constant and refuses sizes that do not fit", () => {
    expect(Array.from(upsampleBilinear([2, 2, 2, 2], 2, 2, 3, 3))).toEqual(new Array(9).fill(2));
    expect(() => upsampleBilinear([1, 2, 3], 2, 2, 4, 4)).toThrow("a 2 x 2 map has 4 values, got 3");
    expect(() => upsampleBilinear([1], 1, 1, 0, 4)).toThrow("positive integers");
  });
});

describe("normalisation and random maps", () => {
  it("stretches to [0, 1] and turns a constant map into zeros", () => {
    expect(Array.from(normaliseMap([2, 4, 3]))).toEqual([0, 1, 0.5]);
    expect(Array.from(normaliseMap([7, 7]))).toEqual([0, 0]);
  });

  it("draws the same random map for the same seed and another for another seed", () => {
    const a = randomMap(3, 4, 4);
    expect(Array.from(randomMap(3, 4, 4))).toEqual(Array.from(a));
    expect(Array.from(randomMap(4, 4, 4))).not.toEqual(Array.from(a));
    for (const v of a) expect(v >= 0 && v < 1).toBe(true);
  });
});
