import { createHash } from "node:crypto";
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

  it("round-trips labels and pixels behind a 48-byte header with their sha256", async () => {
    const file = splitCachePath(dir, "test");
    expect(file).toBe(path.join(dir, "cifar10", "test.u8"));
    await writeSplitCache(file, set);
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBe(48 + 5 + 5 * 3072);
    expect(bytes.toString("latin1", 0, 8)).toBe("DCIFAR10");
    expect(bytes.readUInt32LE(8)).toBe(2);
    expect(bytes.readUInt32LE(12)).toBe(5);
    expect(bytes.subarray(16, 48).toString("hex")).toBe(createHash("sha256").update(set.labels).update(set.pixels).digest("hex"));
    const back = await readSplitCache(file);
    expect(back?.count).toBe(5);
    expect(Array.from(back!.labels)).toEqual([4, 0, 9, 3, 3]);
    expect(Buffer.from(back!.pixels).equals(Buffer.from(set.pixels))).toBe(true);
  });

  it("treats a missing file as absent, and moves a truncated, flipped, foreign or other-version file aside with a warning", async () => {
    const file = splitCachePath(dir, "train");
    expect(await readSplitCache(file)).toBeNull();
    await writeSplitCache(file, set);
    const good = fs.readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[48 + 5 + 100] ^= 0x10;
    const otherVersion = Buffer.from(good);
    otherVersion.writeUInt32LE(1, 8);
    const bad: [Buffer | string, RegExp][] = [
      [good.subarray(0, good.length - 1), /is truncated or corrupt/],
      [flipped, /fails its checksum/],
      [otherVersion, /has split-cache format 1, this version reads 2/],
      ["not a cache file at all", /is not a decoded CIFAR-10 split/],
    ];
    const warn = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      for (const [bytes, reason] of bad) {
        fs.writeFileSync(file, bytes);
        expect(await readSplitCache(file)).toBeNull();
        expect(fs.existsSync(file)).toBe(false);
        const [message, type] = warn.mock.calls[warn.mock.calls.length - 1] as [string, string];
        expect(type).toBe("DecompCacheWarning");
        expect(message).toMatch(reason);
        const aside = /moved it to (\S+) and recomputing it/.exec(message)![1];
        expect(fs.readFileSync(aside).equals(Buffer.from(bytes))).toBe(true);
      }
      expect(warn).toHaveBeenCalledTimes(4);
    } finally {
      warn.mockRestore();
    }
  });
});
