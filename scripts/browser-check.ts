/**
 * Opens exported HTML reports in headless Chromium, checks that every chart is drawn, every image is
 * non-blank and every table has rows, and saves a full-page screenshot of each report.
 *
 * Talks to Chromium over the DevTools protocol with Node's WebSocket, which Node 20 only exposes with
 * `--experimental-websocket` (the npm scripts pass it). All http(s) requests are blocked, so a report that
 * passes here also reads offline.
 */
import { spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
  "--hide-scrollbars",
  "--remote-debugging-port=0",
];

export interface ReportCheck {
  report: string;
  screenshot: string;
  charts: number;
  images: number;
  /** Images that declare their natural size, each checked against it. */
  sizedImages: number;
  /** Charts drawn live by vega-embed (the rest show their static SVG). */
  liveCharts: number;
  /** Whether hovering a live chart's mark showed a tooltip; null when the report has no live chart. */
  tooltip: boolean | null;
  /** Whether moving a live chart's slider redrew it; null when no chart has a slider. */
  slider: boolean | null;
  tables: number;
  /** Empty when the report passed. */
  problems: string[];
}

/** What the page reports about itself; computed in the browser by PAGE_CHECK. */
interface PageFacts {
  /** live: drawn by vega-embed; embedError: why a chart that has a spec fell back to its static SVG. */
  charts: { marks: number; width: number; height: number; live: boolean; embedError?: string }[];
  /** expected: the natural size a report's image declares (data-expected-width/-height), when it does. */
  images: { width: number; height: number; distinctPixels: number; natural: [number, number]; expected: [number, number] | null }[];
  tables: { rows: number; visible: boolean }[];
}

// Runs inside the page. Vega's SVG puts every mark in a <g class="mark-..."> group; the frame group holds none.
const PAGE_CHECK = `(async () => {
  await (window.__decompCharts || Promise.resolve());
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const charts = [...document.querySelectorAll(".decomp-chart")].map((chart) => {
    const prev = chart.previousElementSibling;
    const live = prev && prev.classList.contains("decomp-vega") && prev.getAttribute("data-ready") === "1";
    const svg = (live ? prev : chart).querySelector("svg");
    if (!svg) return { marks: 0, width: 0, height: 0, live };
    const r = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll('g[class*="mark-"]:not(.mark-group) > *')].filter(visible).length;
    const embedError = chart.getAttribute("data-embed-error") || undefined;
    return { marks, width: r.width, height: r.height, live, embedError };
  });
  const images = [...document.querySelectorAll(".jp-OutputArea-output img")].map((img) => {
    const c = document.createElement("canvas");
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    let distinct = 0;
    if (img.complete && c.width > 0) {
      const g = c.getContext("2d"); g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let i = 0; i < px.length && seen.size < 16; i += 4) seen.add(px[i] << 16 | px[i + 1] << 8 | px[i + 2]);
      distinct = seen.size;
    }
    const r = img.getBoundingClientRect();
    const expected = img.dataset.expectedWidth ? [Number(img.dataset.expectedWidth), Number(img.dataset.expectedHeight)] : null;
    return { width: r.width, height: r.height, distinctPixels: distinct, natural: [img.naturalWidth, img.naturalHeight], expected };
  });
  const tables = [...document.querySelectorAll(".jp-OutputArea-output table")].map((t) => ({
    rows: t.querySelectorAll("tbody tr").length, visible: visible(t),
  }));
  return JSON.stringify({ charts, images, tables });
})()`;

export function problemsOf(facts: PageFacts): string[] {
  const problems: string[] = [];
  facts.charts.forEach((c, i) => {
    if (c.embedError) problems.push(`chart ${i + 1} did not render live (${c.embedError}); its static SVG shows instead`);
    if (c.width === 0 || c.height === 0) problems.push(`chart ${i + 1} has no size on the page`);
    else if (c.marks === 0) problems.push(`chart ${i + 1} draws no marks`);
  });
  facts.images.forEach((im, i) => {
    if (im.width === 0 || im.height === 0) problems.push(`image ${i + 1} is not displayed`);
    else if (im.distinctPixels < 2) problems.push(`image ${i + 1} is blank (one colour)`);
    else if (im.expected && (im.natural[0] !== im.expected[0] || im.natural[1] !== im.expected[1])) {
      problems.push(`image ${i + 1} loaded at ${im.natural[0]} x ${im.natural[1]}, expected ${im.expected[0]} x ${im.expected[1]}`);
    }
  });
  facts.tables.forEach((t, i) => {
    if (t.rows === 0) problems.push(`table ${i + 1} has no rows`);
    else if (!t.visible) problems.push(`table ${i + 1} is not visible`);
  });
  return problems;
}

/** A DevTools protocol connection to one browser, with flat sessions for its pages. */
class Cdp {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private listeners: ((method: string, params: any, sessionId?: string) => void)[] = [];

  private constructor(private socket: WebSocket) {
    socket.addEventListener("message", (ev: MessageEvent) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${msg.error.message} (${msg.error.code})`));
        else p?.resolve(msg.result);
      } else {
        for (const l of this.listeners) l(msg.method, msg.params, msg.sessionId);
      }
    });
  }

  static connect(url: string): Promise<Cdp> {
    if (typeof WebSocket === "undefined") {
      throw new Error("Node's WebSocket is missing: run node with --experimental-websocket (Node 20) or use Node >= 22");
    }
    const socket = new WebSocket(url);
    return new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve(new Cdp(socket)));
      socket.addEventListener("error", () => reject(new Error(`cannot connect to Chromium at ${url}`)));
    });
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<any> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  waitFor(method: string, sessionId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${method}`)), timeoutMs);
      this.listeners.push((m, _p, s) => {
        if (m === method && s === sessionId) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}

function startChromium(userDataDir: string): Promise<{ proc: ChildProcess; wsUrl: string }> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (installs Debian's chromium)`);
  }
  const proc = spawn(CHROMIUM, [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`, "about:blank"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`Chromium did not start within 30 s:\n${stderr}`)), 30000);
    proc.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, wsUrl: m[1] });
      }
    });
    proc.on("exit", (code) => reject(new Error(`Chromium exited with ${code} before listening:\n${stderr}`)));
  });
}

// Runs in the page: the centre of the first visible mark of the i-th live chart with tooltips, or null.
const MARK_CENTRE = (i: number) => `(() => {
  const live = document.querySelectorAll(".decomp-vega[data-ready][data-tooltip] svg")[${i}];
  if (!live) return null;
  // Points and bars: a line's or rule's bounding box centre is usually off the stroke, where no tooltip fires.
  const mark = [...live.querySelectorAll("g.mark-symbol > path, g.mark-rect > path")]
    .find((m) => { const r = m.getBoundingClientRect(); return r.width > 1 && r.height > 1; });
  if (!mark) return null;
  mark.scrollIntoView({ block: "center" });
  const r = mark.getBoundingClientRect();
  return JSON.stringify({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
})()`;

/**
 * Page-side: a promise of true as soon as `condition` (an expression) holds, checked at every change of the
 * document and every 50 ms; false once `ms` pass without it. The wait ends when the page is ready, not after a
 * fixed sleep; the limit only bounds how long a page that never gets there is given.
 */
const UNTIL = (condition: string, ms: number) => `new Promise((resolve) => {
  const holds = () => { try { return Boolean(${condition}); } catch { return false; } };
  if (holds()) return resolve(true);
  const finish = (value) => { observer.disconnect(); clearInterval(poll); clearTimeout(limit); resolve(value); };
  const observer = new MutationObserver(() => { if (holds()) finish(true); });
  observer.observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
  const poll = setInterval(() => { if (holds()) finish(true); }, 50);
  const limit = setTimeout(() => finish(false), ${ms});
})`;

// Runs in the page: moves the first slider of a live chart to another stop and reports whether the chart's SVG changed.
const MOVE_SLIDER = `(async () => {
  const input = document.querySelector(".decomp-vega input[type=range]");
  if (!input) return "none";
  const svg = input.closest(".decomp-vega").querySelector("svg");
  window.__decompBefore = svg.innerHTML;
  window.__decompSvg = svg;
  input.value = String(Number(input.value) === Number(input.min) ? input.max : input.min);
  input.dispatchEvent(new Event("input", { bubbles: true }));
  return (await ${UNTIL("window.__decompSvg.innerHTML !== window.__decompBefore", 10000)}) ? "changed" : "unchanged";
})()`;

/** Hovers marks of the live charts with tooltips until one shows vega-tooltip's box (up to five), then moves a slider. */
async function interact(cdp: Cdp, sessionId: string): Promise<{ tooltip: boolean | null; slider: boolean | null }> {
  let tooltip: boolean | null = null;
  for (let i = 0; i < 5 && tooltip !== true; i++) {
    const { result } = await cdp.send("Runtime.evaluate", { expression: MARK_CENTRE(i), returnByValue: true }, sessionId);
    if (result.value === null || result.value === undefined) break;
    const { x, y } = JSON.parse(result.value) as { x: number; y: number };
    await cdp.send("Input.dispatchMouseEvent", { type: "mouseMoved", x, y }, sessionId);
    const shown = await cdp.send("Runtime.evaluate", { expression: UNTIL(`document.querySelector("#vg-tooltip-element.visible")`, 3000), returnByValue: true, awaitPromise: true }, sessionId);
    tooltip = shown.result.value === true;
  }
  const moved = await cdp.send("Runtime.evaluate", { expression: MOVE_SLIDER, returnByValue: true, awaitPromise: true }, sessionId);
  const slider = moved.result.value === "none" ? null : moved.result.value === "changed";
  return { tooltip, slider };
}

async function checkOne(cdp: Cdp, report: string, screenshot: string): Promise<ReportCheck> {
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
  try {
    await cdp.send("Page.enable", {}, sessionId);
    await cdp.send("Network.enable", {}, sessionId);
    await cdp.send("Network.setBlockedURLs", { urls: ["http://*", "https://*"] }, sessionId);
    await cdp.send("Emulation.setDeviceMetricsOverride", { width: 1100, height: 800, deviceScaleFactor: 1, mobile: false }, sessionId);
    const loaded = cdp.waitFor("Page.loadEventFired", sessionId, 60000);
    await cdp.send("Page.navigate", { url: pathToFileURL(report).href }, sessionId);
    await loaded;
    const { result } = await cdp.send("Runtime.evaluate", { expression: PAGE_CHECK, returnByValue: true, awaitPromise: true }, sessionId);
    const facts = JSON.parse(result.value) as PageFacts;
    const interaction = await interact(cdp, sessionId);
    const metrics = await cdp.send("Page.getLayoutMetrics", {}, sessionId);
    const height = Math.min(Math.ceil(metrics.cssContentSize.height), 12000);
    await cdp.send("Emulation.setDeviceMetricsOverride", { width: 1100, height, deviceScaleFactor: 1, mobile: false }, sessionId);
    const shot = await cdp.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true }, sessionId);
    fs.writeFileSync(screenshot, Buffer.from(shot.data, "base64"));
    return {
      report,
      screenshot,
      charts: facts.charts.length,
      images: facts.images.length,
      sizedImages: facts.images.filter((im) => im.expected !== null).length,
      liveCharts: facts.charts.filter((c) => c.live).length,
      ...interaction,
      tables: facts.tables.length,
      problems: [
        ...problemsOf(facts),
        ...(interaction.tooltip === false ? ["hovering the live charts' marks showed no tooltip"] : []),
        ...(interaction.slider === false ? ["moving a chart's slider did not redraw it"] : []),
      ],
    };
  } finally {
    await cdp.send("Target.closeTarget", { targetId });
  }
}

/** Checks each report; the screenshot of reports/x.html is written next to it as reports/x.png. */
export async function checkReports(reports: string[]): Promise<ReportCheck[]> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-chromium-"));
  const { proc, wsUrl } = await startChromium(userDataDir);
  let cdp: Cdp | undefined;
  try {
    cdp = await Cdp.connect(wsUrl);
    const results: ReportCheck[] = [];
    for (const report of reports) {
      const screenshot = report.replace(/\.html$/, "") + ".png";
      results.push(await checkOne(cdp, path.resolve(report), screenshot));
    }
    return results;
  } finally {
    cdp?.close();
    // A Chromium that already died (the reason a check failed) emits no second exit event to wait for.
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill();
      await exited;
    }
    // Chromium's helper processes can still be writing the profile after the browser exits (seen as ENOTEMPTY,
    // more often on a busy machine). The checks are done by then, so a leftover temporary profile must not
    // fail them: retry for a while, then leave it to the OS's temp cleanup.
    try {
      fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 300 });
    } catch (err) {
      console.warn(`[browser-check] left the temporary Chromium profile ${userDataDir}: ${err instanceof Error ? err.message : err}`);
    }
  }
}

export function describeCheck(c: ReportCheck): string {
  const live = `${c.liveCharts} live${c.tooltip === null ? "" : `, tooltip ${c.tooltip ? "shown" : "missing"}`}${c.slider === null ? "" : `, slider ${c.slider ? "redraws" : "stuck"}`}`;
  const counts = `${c.charts} chart(s) (${live}), ${c.images} image(s) (${c.sizedImages} at their declared size), ${c.tables} table(s)`;
  return c.problems.length === 0
    ? `ok   ${path.basename(c.report)}: ${counts}; screenshot ${c.screenshot}`
    : `FAIL ${path.basename(c.report)}: ${c.problems.join("; ")}`;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    console.error("usage: npm run check:reports -- reports/01-csg-baseline.html [...]");
    return 2;
  }
  const results = await checkReports(argv);
  for (const r of results) console.log(describeCheck(r));
  return results.every((r) => r.problems.length === 0) ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
