/**
 * The live front-end workflow, driven as a user drives it: Debian's Jupyter Notebook server on 127.0.0.1 (random
 * port, token) with the registered tslab kernel, headless Chromium through playwright-core. Opens a notebook, runs
 * every cell, edits the parameters cell, re-runs it and the cells that read it, restarts the kernel and runs all
 * again; returns what each step showed. The server and the browser are stopped by process id, also on failure.
 */
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { randomBytes } from "crypto";
import { chromium, type Browser, type BrowserServer, type Page } from "playwright-core";
import { CHROMIUM } from "./browser-check";

const ROOT = path.resolve(__dirname, "..");
export const JUPYTER_NOTEBOOK = "/usr/bin/jupyter-notebook";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export interface NotebookServer {
  url: string;
  token: string;
  process: ChildProcess;
  log: () => string;
}

/** Starts the server in the repository root and waits until its API answers (or fails with its log). */
export async function startNotebookServer(env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<NotebookServer> {
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const runtime = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-jupyter-"));
  const child = spawn(
    JUPYTER_NOTEBOOK,
    ["--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0", `--NotebookApp.token=${token}`, `--notebook-dir=${ROOT}`, "--allow-root"],
    { cwd: ROOT, env: { ...env, JUPYTER_RUNTIME_DIR: runtime }, stdio: ["ignore", "pipe", "pipe"] },
  );
  return waitForServer(child, `http://127.0.0.1:${port}`, token, "jupyter-notebook", timeoutMs);
}

/** Collects a server's output and waits until its API answers with the token; a dead or silent server fails with its log. */
export async function waitForServer(child: ChildProcess, url: string, token: string, name: string, timeoutMs: number): Promise<NotebookServer> {
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${log.slice(-3000)}`);
    try {
      const r = await fetch(`${url}/api/status?token=${token}`);
      if (r.ok) return { url, token, process: child, log: () => log };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  stopProcess(child);
  throw new Error(`${name} did not answer on ${url} within ${timeoutMs / 1000} s:\n${log.slice(-3000)}`);
}

/** Ends a process and everything it started (the server's kernels) by process id. */
export function stopProcess(child: ChildProcess | undefined): void {
  if (!child?.pid || child.exitCode !== null) return;
  try {
    process.kill(child.pid, "SIGTERM");
  } catch {
    // already gone
  }
}

export interface LaunchedBrowser {
  browser: Browser;
  /** The Chromium process, so a caller can stop it by its id whatever state the connection is in. */
  process: ChildProcess;
}

/** Headless Debian Chromium (a fresh temporary profile per launch, made by playwright) and a connection to it. */
export async function launchBrowser(): Promise<LaunchedBrowser> {
  const server: BrowserServer = await chromium.launchServer({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"], headless: true });
  try {
    return { browser: await chromium.connect(server.wsEndpoint()), process: server.process() };
  } catch (err) {
    await server.kill();
    throw err;
  }
}

/** One code cell as the page shows it after a run. */
export interface CellView {
  index: number;
  prompt: string;
  errors: string[];
  text: string;
}

/** Runs in the page: every code cell's prompt, error outputs and visible output text. */
async function cellViews(page: Page): Promise<CellView[]> {
  return page.evaluate(() => {
    const J = (window as any).Jupyter;
    return J.notebook.get_cells().flatMap((cell: any, index: number) => {
      if (cell.cell_type !== "code") return [];
      const el: HTMLElement = cell.element[0];
      const errors = Array.from(el.querySelectorAll(".output_error, .output_stderr")).map((e) => (e as HTMLElement).innerText.slice(0, 2000));
      const prompt = (el.querySelector(".input_prompt") as HTMLElement | null)?.innerText ?? "";
      const text = (el.querySelector(".output_wrapper") as HTMLElement | null)?.innerText ?? "";
      return [{ index, prompt, errors, text }];
    });
  });
}

/** Waits until no cell is queued or running and the kernel is idle. */
async function waitIdle(page: Page, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    () => {
      const busy = Array.from(document.querySelectorAll(".code_cell .input_prompt")).some((p) => (p as HTMLElement).innerText.includes("*"));
      return !busy && document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
    },
    undefined,
    { timeout: timeoutMs, polling: 500 },
  );
}

export interface LiveStep {
  name: string;
  cells: CellView[];
  screenshot: string;
}

export interface LiveEdit {
  /** Pairs of (text in the parameters cell, replacement). */
  replace: [string, string][];
  /** Code cells (0-based notebook indices) to run again after the parameters cell. */
  rerun: number[];
}

/** Opens `notebook` (path below the repository), runs it, applies `edit`, restarts and runs all. */
export async function liveWorkflow(browser: Browser, server: NotebookServer, notebook: string, edit: LiveEdit, shotsDir: string, timeoutMs = 600_000): Promise<LiveStep[]> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const steps: LiveStep[] = [];
  const name = path.basename(notebook, ".ipynb");
  const snap = async (step: string) => {
    const screenshot = path.join(shotsDir, `${name}-${step}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    steps.push({ name: step, cells: await cellViews(page), screenshot });
  };
  try {
    await page.goto(`${server.url}/notebooks/${notebook}?token=${server.token}`);
    await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.() === true, undefined, { timeout: 120_000 });
    await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
    await waitIdle(page, timeoutMs);
    await snap("run-all");

    await page.evaluate((e) => {
      const nb = (window as any).Jupyter.notebook;
      const params = nb.get_cells().find((c: any) => c.cell_type === "code" && (c.metadata.tags ?? []).includes("parameters"));
      let text: string = params.get_text();
      for (const [from, to] of e.replace) {
        if (!text.includes(from)) throw new Error(`the parameters cell has no "${from}"`);
        text = text.replace(from, to);
      }
      params.set_text(text);
      params.execute();
      for (const i of e.rerun) nb.get_cell(i).execute();
    }, edit);
    await waitIdle(page, timeoutMs);
    await snap("edited");

    await page.evaluate(() => new Promise<void>((resolve) => {
      const nb = (window as any).Jupyter.notebook;
      nb.kernel.restart(() => resolve());
    }));
    await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.() === true, undefined, { timeout: 120_000 });
    await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
    await waitIdle(page, timeoutMs);
    await snap("restarted");
    return steps;
  } finally {
    await page.close();
  }
}
