/**
 * `npm run reproduce [-- 02 05 ...]`: runs the notebooks headless through the real tslab kernel, writes the
 * executed notebooks, HTML reports, browser screenshots and reports/index.html, and exits non-zero naming the
 * notebook and cell that failed.
 *
 * Options: --out DIR (default reports/), --no-browser (skip the Chromium check), --skip-setup (npm run reproduce
 * passes it: it runs scripts/setup.sh first, because this file needs node_modules' TypeScript to start at all).
 * A selector is a notebook number ("02"), a name ("02-k1-k2-sweep") or a path to any .ipynb.
 * DECOMP_PROFILE (smoke | full, default full) is passed to the kernels.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describeProfile, loadProfile, PROFILE_ENV } from "../src/profile";
import { type Headline, HEADLINES_MIME, headlineStatus, SUMMARY_MIME } from "../src/report/notebook";
import { checkReports, describeCheck, ReportCheck } from "./browser-check";
import { makeReportInteractive } from "./interactive-report";

const ROOT = path.resolve(__dirname, "..");
const NOTEBOOKS_DIR = path.join(ROOT, "notebooks");
const PYTHON = "/usr/bin/python3";

export interface NotebookResult {
  name: string;
  ok: boolean;
  seconds: number;
  summary: string;
  /** The notebook's rows for the index's table of paper tables and figures. */
  headlines?: Headline[];
  /** Set when a cell failed: its index in the notebook (0-based, markdown cells counted) and the kernel's error. */
  failedCell?: number;
  error?: string;
  browser?: { ok: boolean; problems: string[]; charts: number; liveCharts: number; tooltip: boolean | null; slider: boolean | null; images: number; tables: number };
}

interface Options {
  selectors: string[];
  outDir: string;
  browser: boolean;
  setup: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { selectors: [], outDir: path.join(ROOT, "reports"), browser: true, setup: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out") options.outDir = path.resolve(argv[++i] ?? "");
    else if (a === "--no-browser") options.browser = false;
    else if (a === "--skip-setup") options.setup = false;
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}; see the header of scripts/reproduce.ts`);
    else options.selectors.push(a);
  }
  return options;
}

export function resolveNotebooks(selectors: string[], notebooksDir = NOTEBOOKS_DIR): string[] {
  const all = fs.readdirSync(notebooksDir).filter((f) => f.endsWith(".ipynb")).sort();
  if (selectors.length === 0) return all.map((f) => path.join(notebooksDir, f));
  return selectors.map((s) => {
    if (s.endsWith(".ipynb") && fs.existsSync(s)) return path.resolve(s);
    const matches = all.filter((f) => f === s || f === `${s}.ipynb` || f.startsWith(`${s}-`));
    if (matches.length !== 1) {
      throw new Error(
        `"${s}" ${matches.length === 0 ? "matches no notebook" : `matches ${matches.join(", ")}`}; ` +
          `use a number or name from: ${all.map((f) => f.replace(/\.ipynb$/, "")).join(", ")}`,
      );
    }
    return path.join(notebooksDir, matches[0]);
  });
}

function runChecked(command: string, args: string[], what: string): void {
  const r = spawnSync(command, args, { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${what} failed (${command} ${args.join(" ")} exited with ${r.status})`);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** The notebooks import the compiled library (dist/); rebuild it when any source is newer. */
function ensureBuilt(): void {
  const built = path.join(ROOT, "dist", "index.js");
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= newestMtime(path.join(ROOT, "src"))) return;
  console.log("[reproduce] building dist/ from src/ (the notebooks import ../dist/index)");
  const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
  // tsc exits 2 when it reports type errors but still writes dist/; the notebooks then show whether they matter.
  if (r.status === 2) console.warn("[reproduce] warning: src/ has type errors (above); dist/ was written anyway");
  else if (r.status !== 0) throw new Error(`building dist/ failed (tsc -p tsconfig.build.json exited with ${r.status})`);
}

/** The executed notebook's one-line summary and its headline rows (the last of each kind it published). */
function reportedBy(executedPath: string): { summary: string; headlines: Headline[] } {
  const nb = JSON.parse(fs.readFileSync(executedPath, "utf8"));
  let summary = "";
  let headlines: Headline[] = [];
  for (const cell of nb.cells) {
    for (const out of cell.outputs ?? []) {
      const s = out.data?.[SUMMARY_MIME]?.summary;
      if (typeof s === "string") summary = s;
      const h = out.data?.[HEADLINES_MIME]?.headlines;
      if (Array.isArray(h)) headlines = h;
    }
  }
  return { summary, headlines };
}

const isTty = Boolean(process.stdout.isTTY);

function progressLine(text: string): void {
  if (isTty) process.stdout.write(`\r\x1b[K${text}`);
}

/**
 * Which progress redraws a log without a terminal gets: the first and last of each stage, and otherwise one every
 * `everyMs`, so a long extraction shows it is moving without printing hundreds of lines.
 */
export class PlainProgress {
  private stage = "";
  private last = -Infinity;
  /** The stage whose 100 % line was printed last, so its repeated final redraws are not. */
  private finished = "";

  constructor(private readonly everyMs = 15000) {}

  shouldPrint(text: string, now: number): boolean {
    const stage = text.split(": ")[0];
    if (/ \(100%\)/.test(text)) {
      // A stage may redraw its final state more than once; one line says it finished.
      if (this.finished === stage) return false;
      this.finished = stage;
      this.stage = "";
      this.last = now;
      return true;
    }
    this.finished = "";
    if (stage !== this.stage || now - this.last >= this.everyMs) {
      this.stage = stage;
      this.last = now;
      return true;
    }
    return false;
  }
}

/** Runs one notebook through scripts/run_notebook.py, showing which cell is running and its progress display. */
function executeNotebook(notebook: string, outDir: string, label: string): Promise<NotebookResult> {
  const name = path.basename(notebook, ".ipynb");
  const executed = path.join(outDir, `${name}.ipynb`);
  const html = path.join(outDir, `${name}.html`);
  const started = Date.now();
  const child = spawn(
    PYTHON,
    ["-X", "frozen_modules=off", path.join(ROOT, "scripts", "run_notebook.py"), notebook, "--executed", executed, "--html", html],
    { cwd: ROOT, env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const plainProgress = new PlainProgress();
  let buffered = "";
  let cells = 0;
  let failure: { cell: number; error: string } | undefined;
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      const ev = JSON.parse(line);
      if (ev.event === "start") cells = ev.cells;
      else if (ev.event === "cell_start") progressLine(`${label} ${name}: running cell ${ev.index + 1}/${cells}`);
      else if (ev.event === "cell" && !isTty) console.log(`${label} ${name}: cell ${ev.index + 1}/${cells} done in ${ev.seconds}s`);
      else if (ev.event === "progress") {
        const text = `${label} ${name}: cell ${ev.index + 1}/${cells} · ${ev.text}`;
        if (isTty) progressLine(text);
        else if (plainProgress.shouldPrint(ev.text, Date.now())) console.log(text);
      }
      else if (ev.event === "failed") failure = { cell: ev.cell, error: ev.error };
    }
  });
  return new Promise((resolve) => {
    child.on("close", (code) => {
      const seconds = (Date.now() - started) / 1000;
      progressLine("");
      if (code === 0) {
        try {
          makeReportInteractive(html, executed);
          resolve({ name, ok: true, seconds, ...reportedBy(executed) });
        } catch (err) {
          resolve({ name, ok: false, seconds, summary: "", error: `the notebook ran, but its report could not be made interactive: ${(err as Error).message}` });
        }
      } else {
        resolve({
          name,
          ok: false,
          seconds,
          summary: "",
          failedCell: failure?.cell,
          error: failure?.error ?? `the notebook runner exited with ${code}:\n${stderr.trim().split("\n").slice(-15).join("\n")}`,
        });
      }
    });
  });
}

/** The line of a kernel error report that says what went wrong (tslab puts a source excerpt first). */
export function headlineOf(error: string): string {
  const lines = error.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^\w*(Error|Exception)\b|^\d+:\d+ - /.test(l)) ?? lines[0] ?? "";
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The id nbconvert gives a markdown heading: spaces become dashes, other non-ASCII characters are percent-encoded. */
export function headingAnchor(heading: string): string {
  return [...heading.trim().replace(/ /g, "-")].map((ch) => (ch.charCodeAt(0) > 127 ? encodeURIComponent(ch) : ch)).join("");
}

/** One row per paper table or figure across the notebooks, each linked to the section of the report that shows it. */
export function headlineRows(results: NotebookResult[]): string {
  return results
    .flatMap((r) =>
      (r.headlines ?? []).map((h) => {
        const link = `${r.name}.html${h.section ? `#${headingAnchor(h.section)}` : ""}`;
        return (
          `<tr><td>${escapeHtml(h.item)}</td><td>${escapeHtml(h.quantity)}</td><td>${escapeHtml(h.ours ?? "—")}</td>` +
          `<td>${escapeHtml(h.paper ?? "—")}</td><td>${escapeHtml(headlineStatus(h))}</td><td><a href="${escapeHtml(link)}">${escapeHtml(r.name)}</a></td></tr>`
        );
      }),
    )
    .join("\n");
}

export function indexHtml(results: NotebookResult[], profileLine: string): string {
  const rows = results
    .map((r) => {
      const status = r.ok ? (r.browser && !r.browser.ok ? "render problem" : "ok") : `failed at cell ${(r.failedCell ?? -1) + 1}`;
      const detail = r.ok ? r.summary : headlineOf(r.error ?? "");
      const shot = r.browser ? ` · <a href="${r.name}.png">screenshot</a>` : "";
      return (
        `<tr><td><a href="${r.name}.html">${escapeHtml(r.name)}</a></td><td>${escapeHtml(status)}</td>` +
        `<td>${escapeHtml(detail)}</td><td>${r.seconds.toFixed(0)} s</td>` +
        `<td><a href="${r.name}.ipynb">notebook</a>${shot}</td></tr>`
      );
    })
    .join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>decomp reproduction reports</title>
<style>body{font-family:sans-serif;margin:2em;} td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top;}</style>
</head><body>
<h1>decomp: reproduction of Badola et al., "Decomposing the Deep"</h1>
<p>${escapeHtml(profileLine)}</p>
<h2>The paper's tables and figures</h2>
<table class="headlines"><thead><tr><th>paper item</th><th>quantity</th><th>ours</th><th>paper (Badola et al.)</th><th>status</th><th>section</th></tr></thead>
<tbody>
${headlineRows(results)}
</tbody></table>
<h2>Notebooks</h2>
<table><thead><tr><th>notebook</th><th>status</th><th>summary</th><th>time</th><th>files</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

/** Results of earlier runs are kept so that `reproduce -- 02` refreshes one row of the index, not the whole page. */
function mergeResults(outDir: string, fresh: NotebookResult[]): NotebookResult[] {
  const file = path.join(outDir, "results.json");
  const previous: NotebookResult[] = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : [];
  const byName = new Map(previous.map((r) => [r.name, r]));
  for (const r of fresh) byName.set(r.name, r);
  const merged = [...byName.values()].filter((r) => fs.existsSync(path.join(outDir, `${r.name}.html`)));
  merged.sort((a, b) => a.name.localeCompare(b.name));
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(merged, null, 1));
  fs.renameSync(`${file}.tmp`, file);
  return merged;
}

function attachBrowser(result: NotebookResult, check: ReportCheck): void {
  const { problems, charts, liveCharts, tooltip, slider, images, tables } = check;
  result.browser = { ok: problems.length === 0, problems, charts, liveCharts, tooltip, slider, images, tables };
}

export async function reproduce(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  const profile = loadProfile();
  const notebooks = resolveNotebooks(options.selectors);
  if (options.setup) runChecked("bash", [path.join(ROOT, "scripts", "setup.sh")], "scripts/setup.sh");
  ensureBuilt();
  fs.mkdirSync(options.outDir, { recursive: true });
  const profileLine = describeProfile(profile);
  console.log(`[reproduce] ${profileLine}; ${notebooks.length} notebook(s) -> ${options.outDir}`);
  process.env[PROFILE_ENV] = profile.name;

  const results: NotebookResult[] = [];
  for (const [i, notebook] of notebooks.entries()) {
    const label = `[${i + 1}/${notebooks.length}]`;
    const result = await executeNotebook(notebook, options.outDir, label);
    console.log(
      result.ok
        ? `${label} ${result.name}: ok in ${result.seconds.toFixed(0)} s${result.summary ? ` — ${result.summary}` : ""}`
        : `${label} ${result.name}: FAILED at cell ${(result.failedCell ?? -1) + 1}\n${result.error}`,
    );
    results.push(result);
  }
  if (options.browser) {
    console.log("[reproduce] checking the HTML reports in headless Chromium");
    const reports = results.map((r) => path.join(options.outDir, `${r.name}.html`));
    let checks: ReportCheck[];
    try {
      checks = await checkReports(reports);
    } catch (err) {
      // The notebooks' own results still count and are written below; every report is marked unchecked.
      const problem = `browser check could not run: ${err instanceof Error ? err.message : String(err)}`;
      checks = reports.map((report) => ({ report, screenshot: "", charts: 0, images: 0, sizedImages: 0, liveCharts: 0, tooltip: null, slider: null, tables: 0, problems: [problem] }));
    }
    checks.forEach((c, i) => {
      attachBrowser(results[i], c);
      console.log(`  ${describeCheck(c)}`);
    });
  }
  const all = mergeResults(options.outDir, results);
  const index = path.join(options.outDir, "index.html");
  fs.writeFileSync(index, indexHtml(all, profileLine));
  console.log(`[reproduce] index: ${index}`);

  const failed = results.filter((r) => !r.ok);
  const badRender = results.filter((r) => r.browser && !r.browser.ok);
  for (const r of failed) console.error(`[reproduce] FAILED: notebook ${r.name}, cell ${(r.failedCell ?? -1) + 1}: ${headlineOf(r.error ?? "")}`);
  for (const r of badRender) console.error(`[reproduce] FAILED: report ${r.name}.html: ${r.browser!.problems.join("; ")}`);
  return failed.length + badRender.length === 0 ? 0 : 1;
}

if (require.main === module) {
  reproduce(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`[reproduce] ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    },
  );
}
