/**
 * `npm run lab`'s choice of server (scripts/lab.ts): a JupyterLab the user installed (here a stand-in
 * `jupyter-lab` on PATH that records how it was called) runs from the project root and is stopped by Ctrl-C;
 * a bad --port fails before anything starts. The bundled build itself is driven in lab-live.test.ts.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");

function runLab(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ["-r", "./scripts/register-ts.js", "scripts/lab.ts", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("npm run lab with the user's own JupyterLab", () => {
  it("runs the jupyter-lab on PATH from the project root and stops it with SIGTERM on Ctrl-C", async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-fake-lab-"));
    const record = path.join(bin, "record");
    // Records its arguments and working folder, then waits; SIGTERM is recorded and ends it cleanly.
    fs.writeFileSync(
      path.join(bin, "jupyter-lab"),
      `#!/bin/sh\ntrap 'echo terminated >> "${record}"; exit 0' TERM\necho "cwd=$(pwd)" > "${record}"\nfor a in "$@"; do echo "arg=$a" >> "${record}"; done\nwhile :; do sleep 0.1; done\n`,
      { mode: 0o755 },
    );
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    delete env.DECOMP_LAB;
    const lab = runLab(["--port", "8765"], env);
    try {
      await waitFor(() => fs.existsSync(record) && fs.readFileSync(record, "utf8").includes("arg=--ServerApp.port=8765"), "the stand-in jupyter-lab to start");
      expect(lab.output()).toContain(`[lab] your JupyterLab: ${path.join(bin, "jupyter-lab")}`);
      const lines = fs.readFileSync(record, "utf8").trim().split("\n");
      expect(lines).toEqual([`cwd=${ROOT}`, "arg=--no-browser", `arg=--ServerApp.root_dir=${ROOT}`, "arg=--ServerApp.port=8765"]);
      lab.child.kill("SIGINT");
      expect(await lab.exited).toBe(0);
      expect(fs.readFileSync(record, "utf8")).toContain("terminated");
      expect(lab.output()).toContain("[lab] stopped");
    } finally {
      lab.child.kill("SIGKILL");
      fs.rmSync(bin, { recursive: true, force: true });
    }
  }, 120_000);

  it("refuses a --port that is not a number before starting anything", async () => {
    const lab = runLab(["--port", "eighty"], { ...process.env, DECOMP_LAB: "build" });
    expect(await lab.exited).toBe(1);
    expect(lab.output()).toContain('[lab] --port wants a number, got "eighty"');
    expect(lab.output()).not.toContain("building");
  }, 60_000);
});
