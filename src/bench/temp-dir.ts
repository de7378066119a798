/** A scratch directory for one benchmark measurement, removed however the measurement ends. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export async function withTempDir<T>(prefix: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    return await use(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
