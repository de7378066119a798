/** Streaming sha256 of a file, so large archives are never held in memory just to be hashed. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Progress } from "../progress";

export async function sha256File(file: string, onProgress?: Progress, stage = `sha256 ${file}`): Promise<string> {
  const total = (await stat(file)).size;
  const hash = createHash("sha256");
  let done = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    onProgress?.({ stage, done, total, unit: "bytes" });
  }
  return hash.digest("hex");
}
