/**
 * The live workflow in a real front end: Debian's Jupyter Notebook server and headless Chromium run a notebook
 * (smoke profile), edit its parameters cell, re-run it and the cells that read it, then restart the kernel and
 * run all again. Screenshots land in reports/live/ (git-ignored). Skips only on a machine without Jupyter
 * Notebook or Chromium when CI is unset; in CI, scripts/setup.sh installs them.
 */
import * as fs from "fs";
import * as path from "path";
import { CHROMIUM } from "../../scripts/browser-check";
import { JUPYTER_NOTEBOOK, launchBrowser, type LaunchedBrowser, liveWorkflow, type NotebookServer, startNotebookServer, stopProcess } from "../../scripts/live-notebook";
import { expectNoErrors, NOISE, SWEEP } from "./live-scenarios";

const ROOT = path.resolve(__dirname, "../..");
const SHOTS = path.join(ROOT, "reports", "live");

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

  for (const scenario of [SWEEP, NOISE]) {
    it(scenario.title, async () => {
      const [runAll, edited, restarted] = await liveWorkflow(chrome!.browser, server!, scenario.notebook, scenario.edit, SHOTS);
      for (const step of [runAll, edited, restarted]) expectNoErrors(step);
      scenario.check(runAll, edited, restarted);
    }, 900_000);
  }
});
