/**
 * The JupyterLab 3.6 front end in lab/: its npm packages (lab/package-lock.json, kept apart from the library's
 * own dependencies) and the webpack build that lab/serve.py serves. Built once and reused while the lockfile and
 * the build's sources are unchanged: a key over them is stored with the installed packages and with the build.
 */
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export const LAB_DIR = path.resolve(__dirname, "..", "lab");
export const LAB_BUILD = path.join(LAB_DIR, "build");
const KEY_FILE = ".decomp-key";
// What shapes the installed packages, and what shapes the build on top of them.
const INSTALL_INPUTS = ["package.json", "package-lock.json"];
const BUILD_INPUTS = [...INSTALL_INPUTS, "index.js", "webpack.config.js"];

function keyOf(files: string[]): string {
  const hash = createHash("sha256");
  for (const f of files) hash.update(f).update("\0").update(fs.readFileSync(path.join(LAB_DIR, f))).update("\0");
  return hash.digest("hex");
}

function storedKey(dir: string): string | null {
  try {
    return fs.readFileSync(path.join(dir, KEY_FILE), "utf8").trim();
  } catch {
    return null;
  }
}

/** Whether lab/build is complete and was built from the current lockfile and sources. */
export function labBuildCurrent(): boolean {
  return storedKey(LAB_BUILD) === keyOf(BUILD_INPUTS) && fs.existsSync(path.join(LAB_BUILD, "bundle.js"));
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, say: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: LAB_DIR, env, stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const keep = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} in ${LAB_DIR} failed (${signal ?? `exit ${code}`}):\n${tail}`));
    });
    say(`${command} ${args.join(" ")}`);
  });
}

export interface LabBuildResult {
  installed: boolean;
  built: boolean;
  seconds: number;
}

/**
 * Installs lab/'s packages (npm ci) when their key changed, then builds into a fresh folder renamed to lab/build
 * when complete; a stopped build leaves the previous build (or none) and a folder the next build removes.
 */
export async function ensureLabBuild(say: (line: string) => void = () => undefined): Promise<LabBuildResult> {
  const started = Date.now();
  const modules = path.join(LAB_DIR, "node_modules");
  let installed = false;
  if (storedKey(modules) !== keyOf(INSTALL_INPUTS)) {
    say("installing the JupyterLab 3.6 packages (lab/package-lock.json)");
    await run("npm", ["ci", "--no-audit", "--no-fund"], process.env, say);
    fs.writeFileSync(path.join(modules, KEY_FILE), keyOf(INSTALL_INPUTS) + "\n");
    installed = true;
  }
  let built = false;
  if (!labBuildCurrent()) {
    for (const stale of fs.readdirSync(LAB_DIR).filter((f) => f.startsWith("build.partial-"))) fs.rmSync(path.join(LAB_DIR, stale), { recursive: true, force: true });
    const partial = path.join(LAB_DIR, `build.partial-${process.pid}`);
    say("building the JupyterLab front end (webpack)");
    try {
      await run(process.execPath, [path.join(modules, "webpack", "bin", "webpack.js")], { ...process.env, DECOMP_LAB_OUT: partial }, say);
      fs.writeFileSync(path.join(partial, KEY_FILE), keyOf(BUILD_INPUTS) + "\n");
      fs.rmSync(LAB_BUILD, { recursive: true, force: true });
      fs.renameSync(partial, LAB_BUILD);
    } finally {
      fs.rmSync(partial, { recursive: true, force: true });
    }
    built = true;
  }
  return { installed, built, seconds: (Date.now() - started) / 1000 };
}

if (require.main === module) {
  ensureLabBuild((line) => console.log(`[lab] ${line}`)).then(
    (r) => console.log(`[lab] ${r.built || r.installed ? `ready in ${r.seconds.toFixed(0)} s` : "up to date"}: ${LAB_BUILD}`),
    (err) => {
      console.error(`[lab] ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    },
  );
}
