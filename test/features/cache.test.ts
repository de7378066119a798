import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodeFeatureSet, encodeFeatureSet, featureCachePath, readFeatureCache, writeFeatureCache } from "../../src/features/cache";
import type { FeatureSet } from "../../src/features/feature-set";

function sampleSet(count: number): FeatureSet {
  const width = 4;
  const classes = 3;
  const ramp = (n: number, scale: number) => Float32Array.from({ length: n }, (_, i) => (i + 0.25) * scale);
  return {
    model: "resnet20",
    split: "test",
    norm: "cifar",
    augmentSeed: 7,
    limit: count,
    checkpointSha256: "12fca82f0bebc4135bf1f32f6e3710e61d5108578464b84fd6d7f5c1b04036c8",
    count,
    width,
    classes,
    features: ramp(count * width, 0.5),
    logits: ramp(count * classes, -1.5),
    labels: Uint8Array.from({ length: count }, (_, i) => i % classes),
    weight: ramp(classes * width, 0.01),
    bias: ramp(classes, 3),
    backend: "test/engine",
  };
}

describe("feature cache", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-features-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([1, 5, 6])("round-trips a set of %i images bit for bit (labels need not fill a 4-byte word)", async (count) => {
    const set = sampleSet(count);
    const file = featureCachePath(dir, set);
    await writeFeatureCache(file, set);
    expect(readFeatureCache(file)).toEqual(set);
  });

  it("keys files by every parameter that changes the features", () => {
    const base = sampleSet(2);
    const variants = [
      { model: "resnet56" },
      { split: "train" as const },
      { norm: "checkpoint" },
      { augmentSeed: null },
      { augmentSeed: 8 },
      { limit: null },
      { checkpointSha256: "d509ac1820d7f25398913559d7e81a13229b1e7adc5648e3bfa5e22dc137f850" },
    ];
    const paths = new Set([featureCachePath(dir, base), ...variants.map((v) => featureCachePath(dir, { ...base, ...v }))]);
    expect(paths.size).toBe(variants.length + 1);
  });

  it("returns null when nothing is cached", () => {
    expect(readFeatureCache(path.join(dir, "absent.bin"))).toBeNull();
  });

  it("rejects a truncated file with a message that says how to recover", () => {
    const bytes = Buffer.concat(encodeFeatureSet(sampleSet(3)));
    expect(() => decodeFeatureSet(bytes.subarray(0, bytes.length - 5), "x.bin")).toThrow(/x\.bin is truncated or corrupt \(\d+ bytes, expected \d+\); delete it/);
  });

  it("rejects a file that is not a feature cache", () => {
    expect(() => decodeFeatureSet(Buffer.from("not a cache at all"), "y.bin")).toThrow(/y\.bin is not a decomp tensor file/);
  });

  it("rejects a file whose bytes changed after writing by its checksum", () => {
    const bytes = Buffer.concat(encodeFeatureSet(sampleSet(3)));
    bytes[bytes.length - 2] ^= 0x01;
    expect(() => decodeFeatureSet(bytes, "z.bin")).toThrow("z.bin fails its checksum (its bytes changed after it was written); delete it.");
  });

  it("moves a corrupt cache entry aside, with one warning, and reports it as absent", async () => {
    const set = sampleSet(4);
    const file = featureCachePath(dir, set);
    await writeFeatureCache(file, set);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 5));
    const warn = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      expect(readFeatureCache(file)).toBeNull();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(/is truncated or corrupt .*; moved it to .*\.corrupt-.* and recomputing it/);
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.readdirSync(path.dirname(file)).filter((f) => f.includes(".corrupt-"))).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });
});
