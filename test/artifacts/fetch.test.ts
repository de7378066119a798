import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ArtifactUnavailableError, defaultTorchHubDir, fetchArtifact, offlineFromEnv } from "../../src/artifacts/fetch";
import { type Manifest, parseManifest } from "../../src/artifacts/manifest";
import { resolveMirrorDir } from "../../src/artifacts/paths";
import type { ProgressEvent } from "../../src/progress";

const content = randomBytes(200_000);
const sha = createHash("sha256").update(content).digest("hex");
const URL_ = "https://example.invalid/demo.bin";

const manifest: Manifest = parseManifest(
  JSON.stringify({
    version: 1,
    artifacts: [
      { id: "demo", description: "test file", source: "demo-src", file: "demo.bin", urls: [URL_], size: content.length, sha256: sha, mirrored: true },
      { id: "unverifiable", description: "no checksum", source: "demo-src", file: "u.bin", urls: [URL_], size: null, sha256: null, torchHub: true, mirrored: false },
      { id: "prefixed", description: "prefix only", source: "demo-src", file: `p-${sha.slice(0, 8)}.pth`, urls: [URL_], size: null, sha256: null, sha256Prefix: sha.slice(0, 8), torchHub: true, mirrored: false },
    ],
  }),
);

/** A fetch that serves `body` for every URL, optionally failing after `failAfter` bytes, and counts its calls. */
function server(body: Uint8Array | null, failAfter?: number) {
  const calls: string[] = [];
  const impl = (async (url: string) => {
    calls.push(url);
    if (!body) return new Response("nope", { status: 404, statusText: "Not Found" });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (failAfter === undefined) {
          controller.enqueue(body);
          controller.close();
        } else {
          controller.enqueue(body.subarray(0, failAfter));
          controller.error(new Error("socket hang up"));
        }
      },
    });
    return new Response(stream, { status: 200 });
  }) as unknown as typeof fetch;
  return { impl, calls };
}

describe("fetchArtifact", () => {
  let root: string;
  let cacheDir: string;
  let mirrorDir: string;
  const cached = () => path.join(cacheDir, "demo-src", "demo.bin");
  const cacheFiles = () => (fs.existsSync(path.join(cacheDir, "demo-src")) ? fs.readdirSync(path.join(cacheDir, "demo-src")) : []);
  const putInMirror = (bytes: Uint8Array) => {
    fs.mkdirSync(path.join(mirrorDir, "demo-src"), { recursive: true });
    fs.writeFileSync(path.join(mirrorDir, "demo-src", "demo.bin"), bytes);
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-fetch-"));
    cacheDir = path.join(root, "cache");
    mirrorDir = path.join(root, "mirror");
    fs.mkdirSync(mirrorDir);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("copies from the mirror into the cache with progress, then serves the cache", async () => {
    putInMirror(content);
    const events: ProgressEvent[] = [];
    const net = server(null);
    const got = await fetchArtifact("demo", { manifest, cacheDir, mirrorDir, fetchImpl: net.impl, onProgress: (e) => events.push(e) });
    expect(got).toBe(cached());
    expect(fs.readFileSync(got).equals(content)).toBe(true);
    const copy = events.filter((e) => e.stage === "copy demo");
    expect(copy[copy.length - 1]).toEqual({ stage: "copy demo", done: content.length, total: content.length, unit: "bytes" });

    fs.rmSync(path.join(mirrorDir, "demo-src"), { recursive: true });
    expect(await fetchArtifact("demo", { manifest, cacheDir, mirrorDir, fetchImpl: net.impl })).toBe(cached());
    expect(net.calls).toEqual([]);
  });

  it("refuses a bad file in the mirror and leaves nothing in the cache", async () => {
    const bad = Buffer.from(content);
    bad[1000] ^= 0xff;
    putInMirror(bad);
    const err = await fetchArtifact("demo", { manifest, cacheDir, mirrorDir, fetchImpl: server(null).impl }).catch((e) => e);
    expect(err).toBeInstanceOf(ArtifactUnavailableError);
    expect(err.message).toContain(`mirror ${path.join(mirrorDir, "demo-src", "demo.bin")}: sha256 `);
    expect(err.message).toContain(`expected ${sha}`);
    expect(cacheFiles()).toEqual([]);
  });

  it("downloads when the mirror lacks the file, and lists every source tried when all fail", async () => {
    const err = await fetchArtifact("demo", { manifest, cacheDir, mirrorDir, fetchImpl: server(null).impl }).catch((e) => e);
    expect(err.message).toBe(
      [
        'Could not obtain artifact "demo" (demo.bin). Tried:',
        `  - cache ${cached()}: not present`,
        `  - mirror ${path.join(mirrorDir, "demo-src", "demo.bin")}: not present`,
        `  - network ${URL_}: HTTP 404 Not Found`,
        `To supply it by hand, download ${URL_} and save it as`,
        `  ${cached()}`,
        `or as <DECOMP_MIRROR>/demo-src/demo.bin, or pass it with --weights FILE. It must have sha256 ${sha} and be ${content.length} bytes.`,
      ].join("\n"),
    );
    expect(err.attempts.map((a: { source: string }) => a.source)).toEqual(["cache", "mirror", "network"]);

    const got = await fetchArtifact("demo", { manifest, cacheDir, mirrorDir: null, fetchImpl: server(content).impl });
    expect(fs.readFileSync(got).equals(content)).toBe(true);
  });

  it("says when no mirror is configured", async () => {
    const err = await fetchArtifact("demo", { manifest, cacheDir, mirrorDir: null, fetchImpl: server(null).impl }).catch((e) => e);
    expect(err.message).toContain("  - mirror (none): no mirror configured (set DECOMP_MIRROR)");
  });

  it("leaves no partial file when the download stream breaks halfway", async () => {
    const err = await fetchArtifact("demo", { manifest, cacheDir, mirrorDir, fetchImpl: server(content, 100_000).impl }).catch((e) => e);
    expect(err.message).toContain(`network ${URL_}: socket hang up`);
    expect(cacheFiles()).toEqual([]);
  });

  it("never keeps a download whose checksum is wrong", async () => {
    const err = await fetchArtifact("demo", { manifest, cacheDir, mirrorDir, fetchImpl: server(randomBytes(content.length)).impl }).catch((e) => e);
    expect(err.message).toMatch(/network https:\/\/example\.invalid\/demo\.bin: sha256 [0-9a-f]{64}, expected/);
    expect(cacheFiles()).toEqual([]);
  });

  it("replaces a corrupt cached file from the next source, or removes it and says so", async () => {
    fs.mkdirSync(path.dirname(cached()), { recursive: true });
    fs.writeFileSync(cached(), content.subarray(0, 5000));
    const err = await fetchArtifact("demo", { manifest, cacheDir, mirrorDir, fetchImpl: server(null).impl }).catch((e) => e);
    const truncatedSha = createHash("sha256").update(content.subarray(0, 5000)).digest("hex");
    expect(err.message).toContain(`cache ${cached()}: size 5000 bytes, expected ${content.length}; sha256 ${truncatedSha}, expected ${sha}; removed the corrupt copy`);
    expect(cacheFiles()).toEqual([]);

    const flipped = Buffer.from(content);
    flipped[0] ^= 1;
    fs.writeFileSync(cached(), flipped);
    putInMirror(content);
    const got = await fetchArtifact("demo", { manifest, cacheDir, mirrorDir, fetchImpl: server(null).impl });
    expect(fs.readFileSync(got).equals(content)).toBe(true);
  });

  it("offline (DECOMP_OFFLINE=1), never asks the network and says where a copy would be used", async () => {
    const net = server(content);
    const err = await fetchArtifact("demo", { manifest, cacheDir, mirrorDir, torchHubDir: null, fetchImpl: net.impl, offline: true }).catch((e) => e);
    expect(err.attempts.map((a: { source: string; reason: string }) => `${a.source}: ${a.reason}`)).toEqual(["cache: not present", "mirror: not present", "network: not consulted: offline (DECOMP_OFFLINE)"]);
    expect(err.message).toContain(`or as <DECOMP_MIRROR>/demo-src/demo.bin`);
    expect(net.calls).toEqual([]);
    expect([offlineFromEnv({}), offlineFromEnv({ DECOMP_OFFLINE: "1" }), offlineFromEnv({ DECOMP_OFFLINE: "true" }), offlineFromEnv({ DECOMP_OFFLINE: "0" })]).toEqual([false, true, true, false]);
    expect(() => offlineFromEnv({ DECOMP_OFFLINE: "yes" })).toThrow("DECOMP_OFFLINE='yes' is not 1, true, 0 or false");
  });

  it("fails on an unknown id, listing the known ones", async () => {
    await expect(fetchArtifact("demo2", { manifest, cacheDir })).rejects.toThrow('Unknown artifact id "demo2". Known ids: demo, unverifiable, prefixed.');
  });

  it("never downloads an artifact without any checksum; uses a copy the user placed (file, mirror, PyTorch's cache) in place", async () => {
    const net = server(content);
    const torchHubDir = path.join(root, "hub");
    const err = await fetchArtifact("unverifiable", { manifest, cacheDir, mirrorDir, torchHubDir, fetchImpl: net.impl }).catch((e) => e);
    expect(err.message).toContain("No checksum is published for it, so decomp does not download or cache it unverified");
    expect(err.message).toContain(`download ${URL_} yourself and pass it explicitly (--weights FILE, or fetchArtifact("unverifiable", { file })), or put it in the mirror folder as <DECOMP_MIRROR>/demo-src/u.bin`);
    expect(err.attempts.map((a: { source: string }) => a.source)).toEqual(["cache", "mirror", "torch hub cache", "network"]);
    expect(net.calls).toEqual([]);

    const mine = path.join(root, "u.bin");
    fs.writeFileSync(mine, "anything");
    expect(await fetchArtifact("unverifiable", { manifest, cacheDir, file: mine })).toBe(mine);
    fs.mkdirSync(torchHubDir);
    fs.writeFileSync(path.join(torchHubDir, "u.bin"), "theirs");
    expect(await fetchArtifact("unverifiable", { manifest, cacheDir, mirrorDir, torchHubDir })).toBe(path.join(torchHubDir, "u.bin"));
    expect(cacheFiles()).toEqual([]);
  });

  it("checks a copy against the published sha256 prefix, from PyTorch's cache in place or downloaded into the cache", async () => {
    const file = `p-${sha.slice(0, 8)}.pth`;
    const torchHubDir = path.join(root, "hub");
    fs.mkdirSync(torchHubDir);
    fs.writeFileSync(path.join(torchHubDir, file), content);
    expect(await fetchArtifact("prefixed", { manifest, cacheDir, mirrorDir, torchHubDir, fetchImpl: server(null).impl })).toBe(path.join(torchHubDir, file));

    fs.writeFileSync(path.join(torchHubDir, file), content.subarray(0, 1000));
    const err = await fetchArtifact("prefixed", { manifest, cacheDir, mirrorDir, torchHubDir, fetchImpl: server(randomBytes(10)).impl }).catch((e) => e);
    expect(err.message).toMatch(new RegExp(`torch hub cache .*${file}: sha256 [0-9a-f]{64}, expected one starting ${sha.slice(0, 8)}`));
    expect(err.message).toContain(`It must have a sha256 starting ${sha.slice(0, 8)} (the digits in its published name; the full digest is not recorded).`);
    expect(cacheFiles()).toEqual([]);

    const got = await fetchArtifact("prefixed", { manifest, cacheDir, mirrorDir, torchHubDir: null, fetchImpl: server(content).impl });
    expect(got).toBe(path.join(cacheDir, "demo-src", file));
    expect(fs.readFileSync(got).equals(content)).toBe(true);
  });

  it("finds PyTorch's download cache where torch.hub puts it", () => {
    expect(defaultTorchHubDir({ TORCH_HOME: "/opt/torch" })).toBe("/opt/torch/hub/checkpoints");
    expect(defaultTorchHubDir({ XDG_CACHE_HOME: "/x" })).toBe("/x/torch/hub/checkpoints");
  });

  it("checks an explicitly passed file when a sha256 is known", async () => {
    const mine = path.join(root, "demo.bin");
    fs.writeFileSync(mine, content);
    expect(await fetchArtifact("demo", { manifest, cacheDir, file: mine })).toBe(mine);
    fs.writeFileSync(mine, "wrong");
    const wrongSha = createHash("sha256").update("wrong").digest("hex");
    await expect(fetchArtifact("demo", { manifest, cacheDir, file: mine })).rejects.toThrow(`file ${mine}: size 5 bytes, expected ${content.length}; sha256 ${wrongSha}, expected ${sha}`);
  });

  it("fetches a real checkpoint from ../shared/mirror, byte for byte", async () => {
    const mirror = resolveMirrorDir() as string;
    const got = await fetchArtifact("resnet20", { cacheDir, fetchImpl: server(null).impl });
    expect(got).toBe(path.join(cacheDir, "pytorch_resnet_cifar10", "resnet20-12fca82f.th"));
    expect(fs.readFileSync(got).equals(fs.readFileSync(path.join(mirror, "pytorch_resnet_cifar10", "resnet20-12fca82f.th")))).toBe(true);
  });
});
