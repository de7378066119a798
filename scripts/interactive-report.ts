/**
 * Makes an exported report's charts live: vega, vega-lite and vega-embed are inlined once (the page needs no
 * network), every chart's Vega-Lite spec travels in the page, and a small boot script embeds each one in front
 * of its static SVG, which it hides once the live view has rendered. Without JavaScript the static SVG stays.
 */
import * as fs from "fs";
import * as path from "path";
import { VEGALITE_MIME } from "../src/report/chart";

const NODE_MODULES = path.resolve(__dirname, "..", "node_modules");

/** The Vega-Lite specs of an executed notebook's charts, in the order their static SVGs appear in its HTML. */
export function chartSpecs(executedNotebook: { cells: { outputs?: { data?: Record<string, unknown> }[] }[] }): object[] {
  return executedNotebook.cells.flatMap((c) => (c.outputs ?? []).flatMap((o) => (o.data?.[VEGALITE_MIME] ? [o.data[VEGALITE_MIME] as object] : [])));
}

const LIBRARIES = ["vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js"];

// Runs in the page. window.__decompCharts settles when every chart has rendered or failed (the browser check waits on it).
const BOOT = `(function () {
  var specs = JSON.parse(document.getElementById("decomp-vega-specs").textContent);
  var statics = Array.prototype.slice.call(document.querySelectorAll(".decomp-chart"));
  window.__decompCharts = Promise.all(statics.map(function (chart, i) {
    if (!specs[i]) return null;
    var live = document.createElement("div");
    live.className = "decomp-vega";
    // Marks which charts promise tooltips, so the browser check hovers only those.
    if (JSON.stringify(specs[i]).indexOf('"tooltip"') >= 0) live.setAttribute("data-tooltip", "1");
    chart.parentNode.insertBefore(live, chart);
    return vegaEmbed(live, specs[i], { renderer: "svg", actions: false }).then(function () {
      live.setAttribute("data-ready", "1");
      chart.style.display = "none";
    }, function (err) {
      live.remove();
      chart.setAttribute("data-embed-error", String(err && err.message || err));
    });
  }));
})();`;

/** Keeps "</script" out of inlined text so the HTML parser cannot end the element early. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1");
}

export function interactiveHtml(html: string, specs: object[]): string {
  if (specs.length === 0) return html;
  const at = html.lastIndexOf("</body>");
  if (at < 0) throw new Error("the exported report has no </body>; cannot add its interactive charts");
  // nbconvert's page loads RequireJS, and a UMD build that sees define.amd registers an AMD module instead of a
  // global: hide define while the three libraries load, then give it back.
  const libraries = [
    "<script>window.__decompDefine = window.define; window.define = undefined;</script>",
    ...LIBRARIES.map((lib) => `<script>${scriptSafe(fs.readFileSync(path.join(NODE_MODULES, lib), "utf8"))}</script>`),
    "<script>window.define = window.__decompDefine;</script>",
  ].join("\n");
  const payload = `<script type="application/json" id="decomp-vega-specs">${scriptSafe(JSON.stringify(specs))}</script>`;
  return `${html.slice(0, at)}${libraries}\n${payload}\n<script>${BOOT}</script>\n${html.slice(at)}`;
}

/** Rewrites the report at `htmlPath` in place with the charts of the executed notebook at `executedPath`. */
export function makeReportInteractive(htmlPath: string, executedPath: string): void {
  const specs = chartSpecs(JSON.parse(fs.readFileSync(executedPath, "utf8")));
  // Through a temporary file and a rename, so an interruption never leaves half a report.
  const temp = `${htmlPath}.${process.pid}.tmp`;
  fs.writeFileSync(temp, interactiveHtml(fs.readFileSync(htmlPath, "utf8"), specs));
  fs.renameSync(temp, htmlPath);
}
