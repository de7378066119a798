/** Writes a file so that readers see either nothing or the whole, checked file: temp file in the same folder, fsync, rename. */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";

export type Chunks = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface AtomicWriteOptions {
  /** Runs on the complete temp file before it is renamed into place; throwing aborts the write. */
  verify?: (tempPath: string) => Promise<void>;
}

/**
 * Streams chunks into `dest`. On any failure (a throwing source, a full disk, a failed verify) the temp
 * file is removed and `dest` is left as it was. The temp file lives beside `dest` so the rename stays on
 * one file system and is atomic.
 */
export async function writeFileAtomic(dest: string, chunks: Chunks, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(dest);
  await fs.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(dest)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temp, "wx");
    for await (const chunk of chunks) {
      let offset = 0;
      while (offset < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
        offset += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (opts.verify) await opts.verify(temp);
    await fs.rename(temp, dest);
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw err;
  }
}
