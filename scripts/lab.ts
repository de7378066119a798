/**
 * `npm run lab`: the notebooks in JupyterLab. The user's own `jupyter-lab` when one is on PATH (DECOMP_LAB=build
 * asks for ours instead), else the JupyterLab 3.6 front end in lab/, built on first use, served by Debian's
 * jupyter-server. Prints the URL with its token; Ctrl-C stops the server and its kernels and exits.
 *
 *   npm run lab [-- --port N]
 */
import { type ChildProcess, spawn, spawnSync } from "child_process";
import * as path from "path";
import { ensureLabBuild } from "./lab-build";
import { startLabServer } from "./live-lab";

const ROOT = path.resolve(__dirname, "..");

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function userJupyterLab(): string | null {
  if (process.env.DECOMP_LAB === "build") return null;
  const found = spawnSync("sh", ["-c", "command -v jupyter-lab"], { encoding: "utf8" });
  return found.status === 0 && found.stdout.trim() !== "" ? found.stdout.trim() : null;
}

/** Stops `child` (its own process group) on Ctrl-C or SIGTERM, then exits with 0 once it has. */
function stopOnSignals(child: ChildProcess, say: (line: string) => void): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    say("stopping the server and its kernels");
    child.kill("SIGTERM");
    // jupyter-server shuts its kernels down first; one that hangs is killed after 20 s.
    setTimeout(() => child.kill("SIGKILL"), 20_000).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  child.on("exit", (code, signal) => {
    say(stopping ? "stopped" : `the server exited (${signal ?? `exit ${code}`})`);
    process.exit(stopping ? 0 : 1);
  });
}

async function main(): Promise<void> {
  const say = (line: string) => console.log(`[lab] ${line}`);
  const port = option("--port");
  if (port !== undefined && !/^\d+$/.test(port)) throw new Error(`--port wants a number, got ${JSON.stringify(port)}`);
  const own = userJupyterLab();
  if (own) {
    say(`your JupyterLab: ${own} (DECOMP_LAB=build runs the bundled JupyterLab 3.6 instead)`);
    const args = ["--no-browser", `--ServerApp.root_dir=${ROOT}`, ...(port ? [`--ServerApp.port=${port}`] : [])];
    const child = spawn(own, args, { cwd: ROOT, stdio: "inherit", detached: true });
    stopOnSignals(child, say);
    return;
  }
  const build = await ensureLabBuild(say);
  if (build.built || build.installed) say(`front end ready in ${build.seconds.toFixed(0)} s`);
  const server = await startLabServer({ env: process.env, port: port ? Number(port) : undefined, detached: true });
  // From here on the server's own log follows ours.
  server.process.stdout!.pipe(process.stdout);
  server.process.stderr!.pipe(process.stderr);
  stopOnSignals(server.process, say);
  say(`JupyterLab 3.6 (lab/serve.py, Debian's jupyter-server) serving ${ROOT}`);
  say(`open ${server.url}/lab/tree/notebooks?token=${server.token}`);
  say("Ctrl-C stops it");
}

main().catch((err) => {
  console.error(`[lab] ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
