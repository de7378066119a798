/**
 * Vega-Lite charts. One output carries the spec (JupyterLab's built-in Vega renderer draws it interactively)
 * and a static SVG drawn by vega in Node (what an HTML export shows, with no network).
 *
 * The SVG travels as HTML inside `text/markdown`: JupyterLab ranks its Vega renderer above markdown, so users
 * get the interactive chart; nbconvert's HTML export ignores the Vega-Lite type and renders the markdown with
 * the SVG intact. (Sent as `image/svg+xml`, nbconvert 6.5's sanitiser blanks it; sent as `text/html`,
 * JupyterLab would prefer the static copy over the interactive one.)
 */
import * as vega from "vega";
import { compile, TopLevelSpec } from "vega-lite";
import { MimeBundle, publish } from "./display";

export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";

export type ChartSpec = TopLevelSpec;

/** Renders the chart to an SVG string in Node (no browser, no canvas). */
export async function chartSvg(spec: ChartSpec): Promise<string> {
  // vega tags the data objects it ingests; render a copy so the caller's data stays untouched.
  const view = new vega.View(vega.parse(compile(plainCopy(spec)).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A JSON round trip: a plain object to send (no undefined fields, no class instances, no vega tags). */
function plainCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export async function chartBundle(spec: ChartSpec): Promise<MimeBundle> {
  const svg = await chartSvg(spec);
  const title = typeof spec.title === "string" ? spec.title : "chart";
  return {
    [VEGALITE_MIME]: plainCopy(spec) as object,
    "text/markdown": `<div class="decomp-chart">${svg.replace(/\n/g, " ")}</div>`,
    "text/plain": `Vega-Lite chart: ${title}`,
  };
}

export async function showChart(spec: ChartSpec): Promise<void> {
  publish(await chartBundle(spec));
}
