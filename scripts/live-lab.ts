/**
 * The live workflow in JupyterLab 3.6 (lab/: built from its npm packages, served by Debian's jupyter-server
 * through jupyterlab-server) and headless Chromium, driven through the application's own commands as its menus
 * and keyboard shortcuts drive them: open a notebook, run all, edit the parameters cell and re-run the cells that
 * read it, restart the kernel (through its confirmation dialog) and run all. Each step reports every code cell's
 * outputs as the page shows them, and the Vega views it drew.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { randomBytes } from "crypto";
import type { Page } from "playwright-core";
import { LAB_DIR } from "./lab-build";
import { type CellView, freePort, type LiveEdit, type NotebookServer, waitForServer } from "./live-notebook";

const ROOT = path.resolve(__dirname, "..");
export const LAB_SERVE = path.join(LAB_DIR, "serve.py");
export const DEBIAN_PYTHON = "/usr/bin/python3";

export interface LabServerOptions {
  env: NodeJS.ProcessEnv;
  /** Folder the file browser shows (default: the repository). */
  rootDir?: string;
  port?: number;
  token?: string;
  /**
   * For scripts: the application reachable as window.jupyterapp, autosave off (a test's edits never reach the
   * notebooks on disk) and fresh settings and workspaces (no layout restored from an earlier run).
   */
  scripted?: boolean;
  /**
   * Its own process group, for a server run from a terminal: Ctrl-C then reaches only the caller, which stops the
   * server with SIGTERM (jupyter-server answers SIGINT with a y/n prompt).
   */
  detached?: boolean;
}

/** Starts lab/serve.py (the build must exist: ensureLabBuild) and waits until its API answers. */
export async function startLabServer(options: LabServerOptions, timeoutMs = 120_000): Promise<NotebookServer> {
  const port = options.port ?? (await freePort());
  const token = options.token ?? randomBytes(16).toString("hex");
  const runtime = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-lab-runtime-"));
  const args = [
    LAB_SERVE,
    "--ServerApp.ip=127.0.0.1",
    `--ServerApp.port=${port}`,
    "--ServerApp.port_retries=0",
    `--ServerApp.token=${token}`,
    `--ServerApp.root_dir=${options.rootDir ?? ROOT}`,
    "--ServerApp.open_browser=False",
  ];
  // jupyter-server refuses to run as root unless told; containers and CI machines often are root.
  if (process.getuid?.() === 0) args.push("--ServerApp.allow_root=True");
  if (options.scripted) {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-lab-state-"));
    const docmanager = path.join(state, "settings", "@jupyterlab", "docmanager-extension");
    fs.mkdirSync(docmanager, { recursive: true });
    fs.writeFileSync(path.join(docmanager, "plugin.jupyterlab-settings"), JSON.stringify({ autosave: false }));
    args.push("--DecompLab.expose_app_in_browser=True", `--DecompLab.user_settings_dir=${path.join(state, "settings")}`, `--DecompLab.workspaces_dir=${path.join(state, "workspaces")}`);
  }
  const child = spawn(DEBIAN_PYTHON, args, { cwd: ROOT, env: { ...options.env, JUPYTER_RUNTIME_DIR: runtime }, stdio: ["ignore", "pipe", "pipe"], detached: options.detached });
  return waitForServer(child, `http://127.0.0.1:${port}`, token, "JupyterLab (lab/serve.py)", timeoutMs);
}

/** A Vega view JupyterLab drew in an output: its element and how many marks its SVG holds. */
export interface ChartView {
  marks: number;
}

export interface LabCellView extends CellView {
  /** The Vega views drawn in this cell's outputs. */
  charts: ChartView[];
  /** Outputs carrying a chart spec (a Vega view is expected for each). */
  chartOutputs: number;
  /** Static chart copies (the Markdown SVG fallback) shown instead of, or beside, a Vega view. */
  staticCharts: number;
  tables: number;
  images: number;
}

export interface LabStep {
  name: string;
  cells: LabCellView[];
  screenshot: string;
}

/** Runs in the page: the current notebook's code cells as shown (see LabCellView). */
export async function labCellViews(page: Page): Promise<LabCellView[]> {
  return page.evaluate(() => {
    const panel = (window as any).jupyterapp.shell.currentWidget;
    return panel.content.widgets.flatMap((cell: any, index: number) => {
      if (cell.model.type !== "code") return [];
      const outputs: any[] = cell.model.outputs.toJSON();
      const errors = outputs.flatMap((o) =>
        o.output_type === "error" ? [`${o.ename}: ${o.evalue}`] : o.output_type === "stream" && o.name === "stderr" ? [String(o.text).slice(0, 2000)] : [],
      );
      const area: HTMLElement = cell.outputArea.node;
      const prompt = cell.model.executionCount === null ? (cell.node.querySelector(".jp-InputPrompt")?.textContent ?? "") : `[${cell.model.executionCount}]`;
      const charts = Array.from(area.querySelectorAll(".jp-RenderedVegaCommon5")).map((v) => ({ marks: v.querySelectorAll("svg .role-mark > *").length }));
      const chartOutputs = outputs.filter((o) => o.data && (o.data["application/vnd.vega.v5+json"] || o.data["application/vnd.vegalite.v5+json"])).length;
      return [{
        index,
        prompt,
        errors,
        text: area.innerText,
        charts,
        chartOutputs,
        staticCharts: area.querySelectorAll(".decomp-chart").length,
        tables: area.querySelectorAll("table").length,
        images: area.querySelectorAll("img").length,
      }];
    });
  });
}

/**
 * Starts an application command in the page (answering its confirmation dialog when `dialog` says so) and waits until
 * the command has finished and the kernel is idle. Commands that run cells finish when the cells have run.
 */
async function command(page: Page, id: string, timeoutMs: number, dialog?: "accept"): Promise<void> {
  await page.evaluate((cmd) => {
    const w = window as any;
    w.__decompCommand = { done: false, error: null };
    w.jupyterapp.commands.execute(cmd).then(
      () => (w.__decompCommand.done = true),
      (e: unknown) => ((w.__decompCommand.error = String(e)), (w.__decompCommand.done = true)),
    );
  }, id);
  if (dialog) {
    // A confirmation dialog, answered as a user answers it: the accept button.
    await page.click(".jp-Dialog .jp-mod-accept", { timeout: 60_000 });
  }
  await page.waitForFunction(
    () => {
      const w = window as any;
      const panel = w.jupyterapp.shell.currentWidget;
      const kernel = panel?.sessionContext?.session?.kernel;
      // Restart-and-run-all resolves once the kernel restarted and the cells are queued: also wait for the queue.
      const queued = Array.from(panel?.node.querySelectorAll(".jp-InputPrompt") ?? []).some((p: any) => p.textContent.includes("*"));
      return w.__decompCommand.done && kernel?.status === "idle" && !queued;
    },
    undefined,
    { timeout: timeoutMs, polling: 250 },
  );
  const error = await page.evaluate(() => (window as any).__decompCommand.error);
  if (error) throw new Error(`JupyterLab command ${id} failed: ${error}`);
}

/** Makes code cell `index` the only selected, active cell (what clicking it does). */
async function selectCell(page: Page, index: number): Promise<void> {
  await page.evaluate((i) => {
    const nb = (window as any).jupyterapp.shell.currentWidget.content;
    nb.deselectAll();
    nb.activeCellIndex = i;
  }, index);
}

/** Runs the given cells one after another, each selected alone and run with "Run Selected Cells". */
export async function runCells(page: Page, indices: number[], timeoutMs: number): Promise<void> {
  for (const i of indices) {
    await selectCell(page, i);
    await command(page, "notebook:run-cell", timeoutMs);
  }
}

/** Replaces text in the cell tagged "parameters"; returns its index. Throws naming what the cell lacks. */
export async function editParameters(page: Page, replace: [string, string][]): Promise<number> {
  return page.evaluate((pairs) => {
    const nb = (window as any).jupyterapp.shell.currentWidget.content;
    const index = nb.widgets.findIndex((c: any) => c.model.type === "code" && (c.model.metadata.get("tags") ?? []).includes("parameters"));
    if (index < 0) throw new Error("the notebook has no cell tagged parameters");
    const model = nb.widgets[index].model;
    let text: string = model.value.text;
    for (const [from, to] of pairs) {
      if (!text.includes(from)) throw new Error(`the parameters cell has no "${from}"`);
      text = text.replace(from, to);
    }
    model.value.text = text;
    return index;
  }, replace);
}

/** Opens a notebook by its URL in JupyterLab (the /lab/tree route) and waits for its kernel to be idle. */
export async function openLabNotebook(page: Page, server: NotebookServer, notebook: string): Promise<void> {
  await page.goto(`${server.url}/lab/tree/${notebook}?token=${server.token}`);
  await page.waitForFunction(
    (nbPath) => {
      const panel = (window as any).jupyterapp?.shell?.currentWidget;
      const kernel = panel?.sessionContext?.session?.kernel;
      return panel?.context?.path === nbPath && kernel?.connectionStatus === "connected" && kernel.status === "idle";
    },
    notebook,
    { timeout: 180_000, polling: 250 },
  );
}

/** Opens `notebook`, runs all, applies `edit`, restarts the kernel through its dialog and runs all again. */
export async function labWorkflow(page: Page, server: NotebookServer, notebook: string, edit: LiveEdit, shotsDir: string, timeoutMs = 600_000): Promise<LabStep[]> {
  const steps: LabStep[] = [];
  const name = `lab-${path.basename(notebook, ".ipynb")}`;
  const snap = async (step: string) => {
    // JupyterLab scrolls inside the notebook, not the page: bring the first re-run cell into view for each shot.
    await page.evaluate((i) => (window as any).jupyterapp.shell.currentWidget.content.widgets[i]?.node.scrollIntoView({ block: "start" }), edit.rerun[0] ?? 0);
    const screenshot = path.join(shotsDir, `${name}-${step}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    steps.push({ name: step, cells: await labCellViews(page), screenshot });
  };
  await openLabNotebook(page, server, notebook);
  await command(page, "notebook:run-all-cells", timeoutMs);
  await snap("run-all");
  const params = await editParameters(page, edit.replace);
  await runCells(page, [params, ...edit.rerun], timeoutMs);
  await snap("edited");
  await command(page, "notebook:restart-run-all", timeoutMs, "accept");
  await snap("restarted");
  return steps;
}

