/**
 * Self-healing caches: an entry that fails its header, size or checksum is renamed aside (never overwritten in
 * place, so a process still reading it keeps its bytes) and the caller recomputes it, with one warning.
 */
import * as fs from "node:fs";

/** A file whose bytes are not what its writer wrote: bad magic or version, wrong size, checksum mismatch. */
export class CorruptFileError extends Error {
  /** @param problem what is wrong with the file, naming it; the message adds "; delete it." for callers that cannot heal. */
  constructor(readonly problem: string) {
    super(`${problem}; delete it.`);
    this.name = "CorruptFileError";
  }
}

/** Node's warning type for cache repairs: `process.on("warning")` sees it, `--disable-warning=DecompCacheWarning` silences it. */
export const CACHE_WARNING = "DecompCacheWarning";

/** Moves a corrupt cache entry to `<file>.corrupt-<time>-<pid>` and warns once; silent when another process moved it first. */
function moveAside(file: string, reason: string): void {
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  process.emitWarning(`${reason}; moved it to ${aside} and recomputing it`, CACHE_WARNING);
}

/** Reads a cache entry with `read`; a corrupt one is moved aside and reported as absent (null). */
export function readOrHeal<T>(file: string, read: () => T | null): T | null {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
    moveAside(file, err.problem);
    return null;
  }
}
