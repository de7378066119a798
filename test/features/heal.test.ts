/**
 * Caches that heal, on the real ResNet20 and CIFAR-10: a corrupt feature or split entry is moved aside and
 * recomputed to identical results; two processes that need the same missing entry both succeed with one file.
 * The cache folder is a fresh temp dir holding only the decoded test split (copied from the default cache).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveCacheDir } from "../../src/artifacts/paths";
import { loadCifar10 } from "../../src/data/cifar10";
import { splitCachePath } from "../../src/data/split-cache";
import { featureCachePath, getFeatures } from "../../src/features";

const ROOT = path.resolve(__dirname, "../..");
const LIMIT = 300;
const digest = (set: { features: Float32Array; logits: Float32Array }) => createHash("sha256").update(set.features).update(set.logits).digest("hex");

function child(cacheDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["-r", "./scripts/register-ts.js", "test/features/features-child.ts", cacheDir, String(LIMIT)], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("self-healing caches (real model and data)", () => {
  let cacheDir: string;
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    await loadCifar10("test");
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-heal-"));
    fs.mkdirSync(path.join(cacheDir, "cifar10"));
    fs.copyFileSync(splitCachePath(resolveCacheDir(), "test"), splitCachePath(cacheDir, "test"));
  });
  beforeEach(() => (warn = jest.spyOn(process, "emitWarning").mockImplementation(() => {})));
  afterEach(() => warn.mockRestore());
  afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  const asides = (dir: string) => fs.readdirSync(dir).filter((f) => f.includes(".corrupt-"));

  it("recomputes a truncated or flipped feature entry to the same features, with one warning each", async () => {
    const opts = { model: "resnet20", split: "test" as const, norm: "cifar", limit: LIMIT, cacheDir };
    const first = await getFeatures(opts);
    const file = featureCachePath(cacheDir, first);
    const good = fs.readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[good.length - 1000] ^= 0x40;
    for (const bad of [good.subarray(0, good.length - 64), flipped]) {
      fs.writeFileSync(file, bad);
      const again = await getFeatures(opts);
      expect(digest(again)).toBe(digest(first));
      expect(fs.readFileSync(file).equals(good)).toBe(true);
    }
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[1][0]).toMatch(/fails its checksum/);
    expect(asides(path.dirname(file))).toHaveLength(2);
  });

  it("rebuilds a corrupt split entry from the archive to the same pixels", async () => {
    const file = splitCachePath(cacheDir, "test");
    const good = fs.readFileSync(file);
    const before = await loadCifar10("test", { cacheDir });
    const flipped = Buffer.from(good);
    flipped[good.length - 5] ^= 0x01;
    fs.writeFileSync(file, flipped);
    // The rebuild decodes the npm archive: copied from the default cache, so this test never runs npm pack.
    fs.mkdirSync(path.join(cacheDir, "npm"), { recursive: true });
    for (const f of fs.readdirSync(path.join(resolveCacheDir(), "npm"))) fs.copyFileSync(path.join(resolveCacheDir(), "npm", f), path.join(cacheDir, "npm", f));
    const after = await loadCifar10("test", { cacheDir });
    expect(Buffer.from(after.pixels).equals(Buffer.from(before.pixels))).toBe(true);
    expect(Buffer.from(after.labels).equals(Buffer.from(before.labels))).toBe(true);
    expect(fs.readFileSync(file).equals(good)).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/test\.u8 fails its checksum .*moved it to .* and recomputing it/);
  });

  it("lets two processes that need the same missing entry both succeed with identical results and one consistent file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-race-"));
    try {
      fs.mkdirSync(path.join(dir, "cifar10"));
      fs.copyFileSync(splitCachePath(cacheDir, "test"), splitCachePath(dir, "test"));
      const [a, b] = await Promise.all([child(dir), child(dir)]);
      expect([a.code, a.stderr.includes("Error"), b.code, b.stderr.includes("Error")]).toEqual([0, false, 0, false]);
      expect(a.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
      expect(b.stdout.trim()).toBe(a.stdout.trim());
      expect(fs.readdirSync(path.join(dir, "features"))).toHaveLength(1);
      const set = await getFeatures({ model: "resnet20", split: "test", norm: "cifar", limit: LIMIT, cacheDir: dir });
      expect(digest(set)).toBe(a.stdout.trim());
      expect(warn).not.toHaveBeenCalled();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
