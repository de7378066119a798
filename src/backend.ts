/** Which TF.js tensor engine runs: chosen once (fastest that really loads, or DECOMP_BACKEND), logged once, queryable. */
import * as path from "path";
import * as tf from "@tensorflow/tfjs";

export type BackendName = "tfjs-node-gpu" | "tfjs-node" | "wasm" | "cpu";

/** Preference order when nothing is forced: native GPU, native CPU, WASM, plain JavaScript. */
export const BACKEND_ORDER: readonly BackendName[] = ["tfjs-node-gpu", "tfjs-node", "wasm", "cpu"];

export interface BackendAttempt {
  name: BackendName;
  error: string;
}

export interface BackendInfo {
  name: BackendName;
  /** The TF.js backend id now active (tf.getBackend()): "tensorflow", "wasm" or "cpu". */
  tfBackend: string;
  /** Why this one: forced by DECOMP_BACKEND, or first of BACKEND_ORDER that loaded. */
  reason: string;
  /** Candidates tried before it, each with why it could not be used. */
  tried: BackendAttempt[];
}

export interface BackendOptions {
  /** Backend to force; defaults to the DECOMP_BACKEND environment variable. Empty means choose automatically. */
  force?: string;
  /** Where the one-line report goes; defaults to console.error. */
  logger?: (line: string) => void;
}

/** Both native packages register the TF.js backend id "tensorflow". */
export const NATIVE_TF_BACKEND = "tensorflow";

function errorText(err: unknown): string {
  // Errors from another realm (e.g. a test sandbox's require) fail `instanceof Error`; read the message anyway.
  const message = (err as { message?: unknown } | null)?.message;
  const text = typeof message === "string" ? message : String(err);
  return text.split("\n")[0];
}

/** tf.setBackend reports a failed initialisation as `false` (and a console warning), not as an exception. */
async function activate(tfBackend: string): Promise<void> {
  if (tf.findBackendFactory(tfBackend) === null) {
    throw new Error(`TF.js backend '${tfBackend}' is not registered`);
  }
  if (!(await tf.setBackend(tfBackend))) {
    throw new Error(`TF.js backend '${tfBackend}' is registered but failed to initialise`);
  }
  await tf.ready();
}

async function loadNative(pkg: string): Promise<string> {
  // danfojs-node makes npm alias @tensorflow/tfjs-node to plain @tensorflow/tfjs, so a successful require
  // proves nothing: only a registered native backend does.
  require(pkg);
  if (tf.findBackendFactory(NATIVE_TF_BACKEND) === null) {
    throw new Error(`${pkg} loaded but registered no '${NATIVE_TF_BACKEND}' backend (it is not the native binding here)`);
  }
  await activate(NATIVE_TF_BACKEND);
  return NATIVE_TF_BACKEND;
}

let wasmPathsSet = false;

async function loadWasm(): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const wasm = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");
  // Bundlers and test transforms can move the calling script away from the .wasm binaries; point the
  // backend at the package's own dist/ (allowed only before its first initialisation).
  if (!wasmPathsSet) {
    const dist = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
    wasm.setWasmPaths(dist + path.sep);
    wasmPathsSet = true;
  }
  await activate("wasm");
  return "wasm";
}

async function loadCpu(): Promise<string> {
  await activate("cpu");
  return "cpu";
}

const LOADERS: Record<BackendName, () => Promise<string>> = {
  "tfjs-node-gpu": () => loadNative("@tensorflow/tfjs-node-gpu"),
  "tfjs-node": () => loadNative("@tensorflow/tfjs-node"),
  wasm: loadWasm,
  cpu: loadCpu,
};

function isBackendName(value: string): value is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(value);
}

/**
 * Activate a backend now and report it. Prefer initBackend(), which does this once per process; this is the
 * worker behind it, exposed so a caller (or a test) can switch deliberately.
 */
export async function selectBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const force = (options.force ?? process.env.DECOMP_BACKEND ?? "").trim();
  const log = options.logger ?? ((line: string) => console.error(line));
  let info: BackendInfo;
  if (force !== "") {
    if (!isBackendName(force)) {
      throw new Error(`DECOMP_BACKEND='${force}' is not a backend; use one of ${BACKEND_ORDER.join(", ")} (or unset it to choose automatically)`);
    }
    try {
      const tfBackend = await LOADERS[force]();
      info = { name: force, tfBackend, reason: `forced by DECOMP_BACKEND=${force}`, tried: [] };
    } catch (err) {
      throw new Error(`DECOMP_BACKEND=${force} cannot be used: ${errorText(err)}. Unset DECOMP_BACKEND or choose another of ${BACKEND_ORDER.join(", ")}.`);
    }
  } else {
    const tried: BackendAttempt[] = [];
    let chosen: { name: BackendName; tfBackend: string } | undefined;
    for (const name of BACKEND_ORDER) {
      try {
        chosen = { name, tfBackend: await LOADERS[name]() };
        break;
      } catch (err) {
        tried.push({ name, error: errorText(err) });
      }
    }
    if (chosen === undefined) {
      throw new Error(`no TF.js backend could be loaded: ${tried.map((t) => `${t.name}: ${t.error}`).join("; ")}`);
    }
    info = { ...chosen, reason: tried.length === 0 ? "first choice" : "fastest that loaded", tried };
  }
  const skipped = info.tried.map((t) => `${t.name} (${t.error})`).join("; ");
  log(`decomp: tensor backend ${info.name} [tf: ${info.tfBackend}], ${info.reason}${skipped ? `; skipped ${skipped}` : ""}`);
  current = info;
  // A deliberate switch stays in force: a later initBackend() reports it instead of choosing again.
  pending = Promise.resolve(info);
  return info;
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

/** Choose and activate the backend the first time it is called; later calls return the same answer. */
export function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  if (pending === undefined) {
    pending = selectBackend(options);
    // A failed choice (e.g. a bad DECOMP_BACKEND) must not be cached: the user fixes it and calls again.
    pending.catch(() => {
      pending = undefined;
    });
  }
  return pending;
}

/** The backend in use; throws if none was chosen yet. */
export function backendInfo(): BackendInfo {
  if (current === undefined) {
    throw new Error("no tensor backend chosen yet: await initBackend() first");
  }
  return current;
}
