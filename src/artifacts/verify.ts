/** Checks a local file against an artifact's recorded size and sha256 (or the published prefix of it). */
import { stat } from "node:fs/promises";
import type { Progress } from "../progress";
import { sha256File } from "./checksum";
import type { Artifact } from "./manifest";

/** Returns null when the file matches, otherwise why not. Size is checked first because it is free. */
export async function mismatch(file: string, artifact: Artifact, onProgress?: Progress): Promise<string | null> {
  const size = (await stat(file)).size;
  if (artifact.size !== null && size !== artifact.size) return `size ${size} bytes, expected ${artifact.size}`;
  if (artifact.sha256 === null && artifact.sha256Prefix === undefined) return "no sha256 is recorded, so it cannot be verified";
  const digest = await sha256File(file, onProgress, `verify ${artifact.id}`);
  if (artifact.sha256 !== null) return digest === artifact.sha256 ? null : `sha256 ${digest}, expected ${artifact.sha256}`;
  return digest.startsWith(artifact.sha256Prefix!) ? null : `sha256 ${digest}, expected one starting ${artifact.sha256Prefix}`;
}
