/**
 * The live workflow in JupyterLab 3.6, beside the Notebook 6.4 one (live.test.ts): the front end in lab/ (built
 * from JupyterLab's npm packages by scripts/setup.sh --test, served by Debian's jupyter-server through
 * jupyterlab-server) in headless Chromium. Each notebook runs all, takes an edit of its parameters cell, re-runs
 * the cells that read it, restarts through the kernel's dialog and runs all; every chart must be drawn once, as
 * a Vega view with marks, and no cell may show an error or stderr. Also: `npm run lab` from the command line,
 * and a kernel restarted in the middle of an extraction. Screenshots land in reports/live/ (git-ignored).
 */
import { type ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Page } from "playwright-core";
import { CHROMIUM } from "../../scripts/browser-check";
import { ensureLabBuild } from "../../scripts/lab-build";
import { DEBIAN_PYTHON, editParameters, labCellViews, type LabStep, labWorkflow, openLabNotebook, runCells, startLabServer } from "../../scripts/live-lab";
import { launchBrowser, type LaunchedBrowser, type NotebookServer, stopProcess } from "../../scripts/live-notebook";
import { cell, expectNoErrors, NOISE, SWEEP, YOUR_MODEL } from "./live-scenarios";

const ROOT = path.resolve(__dirname, "../..");
const SHOTS = path.join(ROOT, "reports", "live");
const NOTEBOOKS = fs.readdirSync(path.join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")).sort();

/** One Vega view per chart output, each with marks, and no static fallback shown beside or instead of it. */
function expectLiveCharts(step: LabStep): void {
  const shown = step.cells.map((c) => ({ step: step.name, cell: c.index, views: c.charts.length, staticCopies: c.staticCharts, empty: c.charts.filter((v) => v.marks === 0).length }));
  expect(shown).toEqual(step.cells.map((c) => ({ step: step.name, cell: c.index, views: c.chartOutputs, staticCopies: 0, empty: 0 })));
  expect(step.cells.reduce((n, c) => n + c.charts.length, 0)).toBeGreaterThan(0);
}

describe("notebooks driven live in JupyterLab 3.6 and Chromium (smoke profile)", () => {
  // npm test installs all of it (scripts/setup.sh --test); without it every test here fails, naming what is missing.
  beforeAll(() => {
    const serverPackages = spawnSync(DEBIAN_PYTHON, ["-c", "import jupyter_server, jupyterlab_server"]).status === 0;
    expect({ "jupyter_server + jupyterlab_server": serverPackages, [CHROMIUM]: fs.existsSync(CHROMIUM) }).toEqual({ "jupyter_server + jupyterlab_server": true, [CHROMIUM]: true });
  });

  let server: NotebookServer | undefined;
  let chrome: LaunchedBrowser | undefined;
  let page: Page | undefined;
  // The kernels' feature cache is this run's own, so the restart test starts from no cached features.
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-lab-cache-"));

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    await ensureLabBuild();
    server = await startLabServer({ env: { ...process.env, DECOMP_PROFILE: "smoke", DECOMP_CACHE: cache }, scripted: true });
    chrome = await launchBrowser();
  }, 600_000);

  beforeEach(async () => {
    page = await chrome!.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  });
  afterEach(async () => {
    await page?.close();
  });

  // Stopped by process id, also when a test failed half-way.
  afterAll(() => {
    stopProcess(chrome?.process);
    stopProcess(server?.process);
    fs.rmSync(cache, { recursive: true, force: true });
  });

  // Beside what the Notebook 6.4 test checks: every chart drawn once as a live Vega view.
  for (const scenario of [SWEEP, NOISE, YOUR_MODEL]) {
    it(`${scenario.title}; charts are live Vega views`, async () => {
      const steps = await labWorkflow(page!, server!, scenario.notebook, scenario.edit, SHOTS);
      for (const step of steps) {
        expectNoErrors(step);
        expectLiveCharts(step);
      }
      const [runAll, edited, restarted] = steps;
      scenario.check(runAll, edited, restarted);
      if (scenario === SWEEP) {
        // Tables render as tables; the progress line of the extraction cell finished at 100 %.
        expect(cell(runAll, 6).tables).toBeGreaterThan(0);
        expect(cell(runAll, 2).text).toMatch(/100%/);
      }
      // The overlays cell shows images.
      if (scenario === YOUR_MODEL) expect(cell(edited, 12).images).toBeGreaterThan(0);
    }, 900_000);
  }

  it("a kernel restarted in the middle of an extraction leaves no partial cache file, and the re-run completes", async () => {
    const p = page!;
    await openLabNotebook(p, server!, "notebooks/02-k1-k2-sweep.ipynb");
    const params = await editParameters(p, [["const trainImages = profile.trainImages;", "const trainImages = 20000;"]]);
    await runCells(p, [params], 120_000);
    // Start the extraction cell and wait for its progress line to be part-way through the 20,000 images.
    await p.evaluate(() => {
      const app = (window as any).jupyterapp;
      const nb = app.shell.currentWidget.content;
      nb.deselectAll();
      nb.activeCellIndex = 2;
      void app.commands.execute("notebook:run-cell");
    });
    const progress = await p.waitForFunction(() => {
      const area = (window as any).jupyterapp.shell.currentWidget.content.widgets[2].outputArea.node as HTMLElement;
      const m = /(\d+)\/20000 images/.exec(area.innerText);
      return m !== null && Number(m[1]) > 0 && Number(m[1]) < 20000 ? area.innerText : false;
    }, undefined, { timeout: 300_000, polling: 100 });
    const shownBeforeKill = String(await progress.jsonValue());
    await p.screenshot({ path: path.join(SHOTS, "lab-02-extraction-before-restart.png") });
    // Kernel > Restart Kernel..., confirmed in its dialog.
    await p.evaluate(() => void (window as any).jupyterapp.commands.execute("kernelmenu:restart"));
    await p.click(".jp-Dialog .jp-mod-accept", { timeout: 60_000 });
    await p.waitForFunction(() => {
      const kernel = (window as any).jupyterapp.shell.currentWidget.sessionContext.session?.kernel;
      return kernel?.connectionStatus === "connected" && kernel.status === "idle";
    }, undefined, { timeout: 120_000, polling: 250 });
    const files = () => fs.readdirSync(cache, { recursive: true }).map(String).sort();
    const afterKill = files();
    expect(shownBeforeKill).toMatch(/\d+\/20000 images/);
    expect(afterKill.filter((f) => /n20000/.test(f) || /\.tmp$|partial/.test(f))).toEqual([]);

    await runCells(p, [params, 2], 600_000);
    const [rerun] = (await labCellViews(p)).filter((c) => c.index === 2);
    expect(rerun.errors).toEqual([]);
    expect(rerun.text).toContain("20000 train / 500 test rows");
    const afterRerun = files();
    expect(afterRerun.filter((f) => /n20000\.bin$/.test(f)).length).toBeGreaterThanOrEqual(1);
    expect(afterRerun.filter((f) => /\.tmp$|partial/.test(f))).toEqual([]);
    await p.screenshot({ path: path.join(SHOTS, "lab-02-extraction-rerun.png") });
  }, 900_000);

  it("npm run lab serves the notebooks with a tokened URL, lists them in the page, and stops on Ctrl-C", async () => {
    // DECOMP_LAB=build: this build even where a JupyterLab is installed. The script is what `npm run lab` runs after setup.
    const child: ChildProcess = spawn(process.execPath, ["-r", "./scripts/register-ts.js", "scripts/lab.ts"], {
      cwd: ROOT,
      env: { ...process.env, DECOMP_LAB: "build", DECOMP_PROFILE: "smoke" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 180_000;
      while (!/open (http:\/\/\S+)/.test(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const link = /open (http:\/\/\S+)/.exec(out)?.[1];
      expect({ link: link !== undefined, out: link ? "" : out }).toEqual({ link: true, out: "" });
      const url = new URL(link!);
      const token = url.searchParams.get("token")!;
      expect(token).toMatch(/^[0-9a-f]{32}$/);
      expect(url.pathname).toBe("/lab/tree/notebooks");
      // Without the token the API refuses; with it, the contents API lists every notebook.
      expect((await fetch(`${url.origin}/api/contents/notebooks`)).status).toBe(403);
      const listing = (await (await fetch(`${url.origin}/api/contents/notebooks?token=${token}`)).json()) as { content: { name: string }[] };
      expect(listing.content.map((c) => c.name).filter((n) => n.endsWith(".ipynb")).sort()).toEqual(NOTEBOOKS);
      // The page, opened at the printed URL, shows them in its file browser.
      await page!.goto(link!);
      const shown = () => page!.$$eval(".jp-DirListing-itemText", (items) => items.map((i) => i.textContent ?? "").sort());
      await page!.waitForFunction((names) => {
        const listed = Array.from(document.querySelectorAll(".jp-DirListing-itemText")).map((i) => i.textContent);
        return names.every((n) => listed.includes(n));
      }, NOTEBOOKS, { timeout: 120_000 }).catch(async (err) => {
        throw new Error(`the file browser shows ${JSON.stringify(await shown())}, not every notebook: ${err}`);
      });
      await page!.screenshot({ path: path.join(SHOTS, "lab-npm-run-lab.png") });

      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(out).toContain("[lab] stopped");
      await expect(fetch(`${url.origin}/api/status?token=${token}`)).rejects.toThrow();
    } finally {
      stopProcess(child);
    }
  }, 600_000);
});
