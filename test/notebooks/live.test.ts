/**
 * The live workflow in a real front end: Debian's Jupyter Notebook server and headless Chromium run a notebook
 * (smoke profile), edit its parameters cell, re-run it and the cells that read it, then restart the kernel and
 * run all again. Screenshots land in reports/live/ (git-ignored). Skips only on a machine without Jupyter
 * Notebook or Chromium when CI is unset; in CI, scripts/setup.sh installs them.
 */
import * as fs from "fs";
import * as path from "path";
import { CHROMIUM } from "../../scripts/browser-check";
import { JUPYTER_NOTEBOOK, launchBrowser, type LaunchedBrowser, type LiveStep, liveWorkflow, type NotebookServer, startNotebookServer, stopProcess } from "../../scripts/live-notebook";

const ROOT = path.resolve(__dirname, "../..");
const SHOTS = path.join(ROOT, "reports", "live");

/** Every cell of a step without an error or stderr output; a failure prints the cell and what it showed. */
function expectNoErrors(step: LiveStep): void {
  const failing = step.cells.filter((c) => c.errors.length > 0).map((c) => ({ step: step.name, cell: c.index, errors: c.errors, screenshot: step.screenshot }));
  expect(failing).toEqual([]);
}

const cell = (step: LiveStep, index: number) => step.cells.find((c) => c.index === index)!;

describe("notebooks driven live in Jupyter Notebook and Chromium (smoke profile)", () => {
  // npm test installs both (scripts/setup.sh); without them every test here fails, naming what is missing.
  beforeAll(() => expect({ [JUPYTER_NOTEBOOK]: fs.existsSync(JUPYTER_NOTEBOOK), [CHROMIUM]: fs.existsSync(CHROMIUM) }).toEqual({ [JUPYTER_NOTEBOOK]: true, [CHROMIUM]: true }));

  let server: NotebookServer | undefined;
  let chrome: LaunchedBrowser | undefined;

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    server = await startNotebookServer({ ...process.env, DECOMP_PROFILE: "smoke" });
    chrome = await launchBrowser();
  }, 180_000);

  // Both stopped by process id, also when a test failed half-way.
  afterAll(() => {
    stopProcess(chrome?.process);
    stopProcess(server?.process);
  });

  it("02: run all, edit showClass and k1Show, re-run Fig. 2, restart and run all", async () => {
    const [runAll, edited, restarted] = await liveWorkflow(chrome!.browser, server!, "notebooks/02-k1-k2-sweep.ipynb", {
      replace: [['const showClass = "cat";', 'const showClass = "ship";'], ["const k1Show = 5;", "const k1Show = 3;"]],
      rerun: [4],
    }, SHOTS);
    for (const step of [runAll, edited, restarted]) expectNoErrors(step);
    expect(cell(runAll, 4).text).toContain('Class "cat": feature frequency in per-instance top-5 sets');
    expect(cell(edited, 4).text).toContain('Class "ship": feature frequency in per-instance top-3 sets');
    expect(cell(edited, 4).text).not.toContain('Class "cat"');
    // The re-run cells took new execution counts after the first run's; the other cells kept theirs.
    const count = (s: LiveStep, i: number) => Number(/\[(\d+)\]/.exec(cell(s, i).prompt)?.[1]);
    expect(count(edited, 4)).toBeGreaterThan(count(runAll, 13));
    expect(count(edited, 6)).toBe(count(runAll, 6));
    // After a restart every cell runs again, with the edited parameters.
    expect(count(restarted, 1)).toBe(1);
    expect(cell(restarted, 4).text).toContain('Class "ship": feature frequency in per-instance top-3 sets');
    expect(cell(restarted, 13).text).toMatch(/A_d at k1 = k2 = 5: [\d.]+ %/);
  }, 900_000);

  it("06: run all, edit the noise seeds, re-run the ablation, its table, chart and summary, restart and run all", async () => {
    const [runAll, edited, restarted] = await liveWorkflow(chrome!.browser, server!, "notebooks/06-noise-ablation.ipynb", {
      replace: [["const seeds = profile.noiseSeeds;", "const seeds = [0, 1, 2];"]],
      rerun: [2, 3, 5, 6],
    }, SHOTS);
    for (const step of [runAll, edited, restarted]) expectNoErrors(step);
    expect(cell(runAll, 3).text).toContain("5 noise seeds (0..4)");
    expect(cell(edited, 3).text).toContain("3 noise seeds (0..2)");
    expect(cell(edited, 5).text).toContain("mean over 3 seeds");
    expect(cell(edited, 6).text).toContain("over 3 seeds");
    expect(cell(restarted, 3).text).toContain("3 noise seeds (0..2)");
  }, 900_000);
});
