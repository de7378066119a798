/** Checks a local file against an artifact's recorded size and sha256 (or the published prefix of it). */
import { stat } from "node:fs/promises";
import type { Progress } from "../progress";
import { sha256File } from "./checksum";
import type { Artifact } from "./manifest";

/**
 * Returns null when the file matches, otherwise why not: the size and, where one is recorded, the actual sha256
 * beside the expected one (also for a file of the wrong size, so a user can compare it with any published list).
 */
export async function mismatch(file: string, artifact: Artifact, onProgress?: Progress): Promise<string | null> {
  const size = (await stat(file)).size;
  const sizeWrong = artifact.size !== null && size !== artifact.size ? `size ${size} bytes, expected ${artifact.size}` : null;
  if (artifact.sha256 === null && artifact.sha256Prefix === undefined) return sizeWrong ?? "no sha256 is recorded, so it cannot be verified";
  const digest = await sha256File(file, onProgress, `verify ${artifact.id}`);
  const expected = artifact.sha256 ?? `one starting ${artifact.sha256Prefix}`;
  const digestWrong = artifact.sha256 !== null ? digest !== artifact.sha256 : !digest.startsWith(artifact.sha256Prefix!);
  if (sizeWrong === null && !digestWrong) return null;
  return [sizeWrong, `sha256 ${digest}, expected ${expected}`].filter((s) => s !== null).join("; ");
}
