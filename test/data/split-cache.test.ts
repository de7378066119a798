import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeImageSet } from "../../src/data/image-set";
import { readSplitCache, splitCachePath, writeSplitCache } from "../../src/data/split-cache";

describe("split cache file", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-split-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const set = makeImageSet(
    Uint8Array.from({ length: 5 * 3072 }, (_, i) => (i * 7) % 256),
    Uint8Array.from([4, 0, 9, 3, 3]),
  );

  it("round-trips labels and pixels behind a 16-byte header", async () => {
    const file = splitCachePath(dir, "test");
    expect(file).toBe(path.join(dir, "cifar10", "test.u8"));
    await writeSplitCache(file, set);
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBe(16 + 5 + 5 * 3072);
    expect(bytes.toString("latin1", 0, 8)).toBe("DCIFAR10");
    expect(bytes.readUInt32LE(8)).toBe(1);
    expect(bytes.readUInt32LE(12)).toBe(5);
    const back = await readSplitCache(file);
    expect(back?.count).toBe(5);
    expect(Array.from(back!.labels)).toEqual([4, 0, 9, 3, 3]);
    expect(Buffer.from(back!.pixels).equals(Buffer.from(set.pixels))).toBe(true);
  });

  it("treats a missing, truncated, foreign or other-version file as absent", async () => {
    const file = splitCachePath(dir, "train");
    expect(await readSplitCache(file)).toBeNull();
    await writeSplitCache(file, set);
    const good = fs.readFileSync(file);
    fs.writeFileSync(file, good.subarray(0, good.length - 1));
    expect(await readSplitCache(file)).toBeNull();
    const otherVersion = Buffer.from(good);
    otherVersion.writeUInt32LE(2, 8);
    fs.writeFileSync(file, otherVersion);
    expect(await readSplitCache(file)).toBeNull();
    fs.writeFileSync(file, "not a cache file at all");
    expect(await readSplitCache(file)).toBeNull();
  });
});
