/** Where the repository, the download cache and the offline mirror live on this machine. */
import * as fs from "node:fs";
import * as path from "node:path";

/** Both src/artifacts (ts-jest, tslab) and dist/artifacts (built package) sit two levels below the repository root. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export const MANIFEST_PATH = path.join(REPO_ROOT, "data", "manifest.json");

/** Cache directory: explicit argument, else $DECOMP_CACHE, else <repo>/data/cache. */
export function resolveCacheDir(explicit?: string): string {
  if (explicit) return path.resolve(explicit);
  const fromEnv = process.env.DECOMP_CACHE;
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(REPO_ROOT, "data", "cache");
}

/**
 * Mirror directory (layout <mirror>/<source>/<file>): explicit argument, else $DECOMP_MIRROR, else
 * <repo>/../shared/mirror when it exists; null when there is none.
 * An explicit null disables the mirror (tests use this to exercise the network path).
 */
export function resolveMirrorDir(explicit?: string | null): string | null {
  if (explicit === null) return null;
  if (explicit) return path.resolve(explicit);
  const fromEnv = process.env.DECOMP_MIRROR;
  if (fromEnv) return path.resolve(fromEnv);
  const shared = path.resolve(REPO_ROOT, "..", "shared", "mirror");
  return fs.existsSync(shared) ? shared : null;
}
