/** Artifacts: the manifest of downloadable files and the verified fetcher that brings them local. */
export { type Artifact, type Manifest, findArtifact, loadManifest, parseManifest } from "./manifest";
export { ArtifactUnavailableError, type Attempt, type FetchOptions, type LocalSource, defaultTorchHubDir, fetchArtifact, localCopy } from "./fetch";
export { sha256File } from "./checksum";
export { writeFileAtomic } from "./atomic-write";
export { MANIFEST_PATH, REPO_ROOT, resolveCacheDir, resolveMirrorDir } from "./paths";
export { CACHE_WARNING, CorruptFileError, readOrHeal } from "./heal";
