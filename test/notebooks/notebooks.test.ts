/**
 * Runs every notebook (smoke profile) and the display-helper fixture through the real tslab kernel with the
 * reproduce command, then checks the exported reports in headless Chromium. Skips only on a machine without
 * Jupyter or Chromium when CI is unset; in CI the reproduce command installs them (scripts/setup.sh).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PNG } from "pngjs";
import { PAPER_COLUMN } from "../../src/report/table";
import type { NotebookResult } from "../../scripts/reproduce";

const ROOT = path.resolve(__dirname, "../..");
const FIXTURES = path.join(ROOT, "test", "fixtures", "notebooks");
const NOTEBOOKS = fs.readdirSync(path.join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")).map((f) => f.replace(/\.ipynb$/, ""));

function jupyterPresent(): boolean {
  const py = spawnSync("/usr/bin/python3", ["-c", "import nbclient, nbconvert, jupyter_client"], { stdio: "ignore" });
  return py.status === 0 && fs.existsSync("/usr/bin/chromium");
}

function reproduce(args: string[]) {
  return spawnSync(
    process.execPath,
    ["--experimental-websocket", "-r", "./scripts/register-ts.js", "scripts/reproduce.ts", ...args],
    // Without ImageNet, whatever the caller's environment: the ImageNet parts then show the paper's rows.
    { cwd: ROOT, env: { ...process.env, DECOMP_PROFILE: "smoke", DECOMP_IMAGENET: "" }, encoding: "utf8", timeout: 20 * 60 * 1000 },
  );
}

describe("notebooks through the real kernel (smoke profile)", () => {
  // npm test installs them (scripts/setup.sh); without them every test here fails, saying so.
  beforeAll(() => expect({ jupyterAndChromium: jupyterPresent() }).toEqual({ jupyterAndChromium: true }));

  const out = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-reports-"));
  let run: ReturnType<typeof reproduce>;
  let results: Map<string, NotebookResult>;

  beforeAll(() => {
    // One run for everything (kernel start-up and the build dominate): the failing fixture makes it exit 1.
    run = reproduce(["--out", out, ...NOTEBOOKS, path.join(FIXTURES, "display-helpers.ipynb"), path.join(FIXTURES, "failing-cell.ipynb")]);
    const file = path.join(out, "results.json");
    results = new Map(fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as NotebookResult[]).map((r) => [r.name, r]) : []);
    // The run stopped before writing any result (setup, build or browser start failed): its stderr says why.
    if (results.size === 0) console.error(`reproduce exited ${run.status} (${run.signal ?? "no signal"}) without results:\n${(run.stderr ?? "").slice(-6000)}`);
  }, 20 * 60 * 1000);

  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it("executes every notebook without a cell error and passes the browser check", () => {
    expect([...results.keys()].sort()).toEqual([...NOTEBOOKS, "display-helpers", "failing-cell"].sort());
    for (const r of [...results.values()].filter((r) => r.name !== "failing-cell")) {
      expect({ name: r.name, ok: r.ok, browser: r.browser?.ok }).toEqual({ name: r.name, ok: true, browser: true });
    }
  });

  it.each(NOTEBOOKS)("%s reports the smoke profile, the paper column and a summary", (name) => {
    const html = fs.readFileSync(path.join(out, `${name}.html`), "utf8");
    expect(html).toContain("profile smoke (DECOMP_PROFILE)");
    expect(html).toContain(`>${PAPER_COLUMN}</th>`);
    expect(results.get(name)!.summary).not.toBe("");
    expect(results.get(name)!.browser!.tables).toBeGreaterThanOrEqual(1);
    const executed = JSON.parse(fs.readFileSync(path.join(out, `${name}.ipynb`), "utf8"));
    const errors = executed.cells.flatMap((c: { outputs?: { output_type: string; name?: string }[] }) =>
      (c.outputs ?? []).filter((o) => o.output_type === "error" || o.name === "stderr"),
    );
    expect(errors).toEqual([]);
  });

  it("draws the fixture's chart, image, table and progress in the exported report", () => {
    const r = results.get("display-helpers")!;
    expect(r.browser).toEqual({ ok: true, problems: [], charts: 1, liveCharts: 1, tooltip: null, slider: null, images: 1, tables: 1 });
    const html = fs.readFileSync(path.join(out, "display-helpers.html"), "utf8");
    expect(html).toContain("fixture loop: 4/4 steps (100%)");
    expect(html).not.toContain("fixture loop: 0/4");
    const executed = JSON.parse(fs.readFileSync(path.join(out, "display-helpers.ipynb"), "utf8"));
    const chartOutput = executed.cells.flatMap((c: { outputs?: { data?: Record<string, unknown> }[] }) => c.outputs ?? [])
      .find((o: { data?: Record<string, unknown> }) => o.data?.["application/vnd.vegalite.v5+json"]);
    expect(chartOutput.data["application/vnd.vegalite.v5+json"].mark).toEqual({ type: "line", point: true });
    expect([chartOutput.data["text/markdown"]].flat().join("")).toMatch(/^<div class="decomp-chart"><svg .*<\/svg><\/div>$/);
  });

  it("draws every chart live in the exported reports, offline, with tooltips and a working Fig. 3 slider", () => {
    for (const name of NOTEBOOKS) {
      const b = results.get(name)!.browser!;
      expect({ name, live: b.liveCharts }).toEqual({ name, live: b.charts });
    }
    expect(results.get("02-k1-k2-sweep")!.browser).toMatchObject({ tooltip: true, slider: true });
    const html = fs.readFileSync(path.join(out, "02-k1-k2-sweep.html"), "utf8");
    // The libraries are inlined once and nothing is fetched from the network.
    expect(html.match(/<script type="application\/json" id="decomp-vega-specs">/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
  });

  it("saves a non-blank screenshot per report and an index linking them", () => {
    for (const name of [...NOTEBOOKS, "display-helpers"]) {
      const png = PNG.sync.read(fs.readFileSync(path.join(out, `${name}.png`)));
      expect(png.width).toBe(1100);
      expect(new Set(Array.from(png.data.subarray(0, png.width * 4 * 200))).size).toBeGreaterThan(2);
    }
    const index = fs.readFileSync(path.join(out, "index.html"), "utf8");
    for (const name of NOTEBOOKS) expect(index).toContain(`<a href="${name}.html">${name}</a>`);
    // The landing table: measured rows beside the paper's, paper-only rows with their reason, section links.
    expect(index).toMatch(/<td>Fig\. 3<\/td><td>resnet20, A_d at k1 = k2 = 5 \(%\)<\/td><td>[\d.]+<\/td><td>88\.59<\/td><td>measured<\/td><td><a href="02-k1-k2-sweep\.html#Fig\.-3:/);
    expect(index).toMatch(/<td>Table 8<\/td><td>ResNet50 ImageNet[^<]*<\/td><td>—<\/td><td>74\.55 \/ 12\.52 \/ 74\.40<\/td><td>paper only: DECOMP_IMAGENET is not set: point it to the ILSVRC-2012 folder/);
    expect(index).toContain("<td>Table 1</td>");
  });

  it("shows the notebooks' progress displays in its own output while cells run", () => {
    // The first notebook extracts features from a cold cache in CI; every stage prints its final redraw at least.
    expect(run.stdout).toMatch(/^\[\d+\/\d+\] \S+: cell \d+\/\d+ · .+: (\d+)\/\1 (images )?\(100%\)/m);
  });

  it("fails naming the notebook and the failing cell, and only that one", () => {
    expect(run.status).toBe(1);
    const failures = run.stderr.split("\n").filter((l) => l.includes("FAILED"));
    expect(failures).toEqual(["[reproduce] FAILED: notebook failing-cell, cell 3: RangeError: deliberate failure for the test"]);
    expect(results.get("failing-cell")).toMatchObject({ ok: false, failedCell: 2 });
  });
});
