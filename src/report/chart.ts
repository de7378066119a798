/**
 * Vega-Lite charts. One output carries the spec twice, as written (Vega-Lite 5) and compiled to Vega 5, and a
 * static SVG drawn by vega in Node (what an HTML export shows, with no network). JupyterLab 3.6's renderer knows
 * Vega 5 and Vega-Lite 3/4 but not Vega-Lite 5 (JupyterLab 4 knows both): the compiled Vega is what it draws, and
 * either version draws one view per output, since a front end renders one mime type of a bundle.
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
export const VEGA_MIME = "application/vnd.vega.v5+json";

/**
 * Output metadata for JupyterLab's renderer: SVG rather than canvas, so the chart stays sharp when zoomed and its
 * marks are elements a test (or a user's browser tools) can inspect.
 */
export const CHART_METADATA = Object.freeze({
  [VEGA_MIME]: { embed_options: { renderer: "svg" } },
  [VEGALITE_MIME]: { embed_options: { renderer: "svg" } },
});

export type ChartSpec = TopLevelSpec;

/** Renders the chart to an SVG string in Node (no browser, no canvas). */
export async function chartSvg(spec: ChartSpec): Promise<string> {
  return vegaSvg(compiled(spec));
}

/** The Vega spec as plain JSON: the compiled spec shares the caller's data arrays, which vega would tag. */
function compiled(spec: ChartSpec): vega.Spec {
  return plainCopy(compile(spec).spec);
}

async function vegaSvg(spec: vega.Spec): Promise<string> {
  // The view tags the data it ingests: render a copy so the spec stays plain JSON to send.
  const view = new vega.View(vega.parse(plainCopy(spec)), { renderer: "none" });
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
  const vegaSpec = compiled(spec);
  const svg = await vegaSvg(vegaSpec);
  const title = typeof spec.title === "string" ? spec.title : "chart";
  return {
    [VEGALITE_MIME]: plainCopy(spec) as object,
    [VEGA_MIME]: vegaSpec as object,
    "text/markdown": `<div class="decomp-chart">${svg.replace(/\n/g, " ")}</div>`,
    "text/plain": `Vega-Lite chart: ${title}`,
  };
}

export async function showChart(spec: ChartSpec): Promise<void> {
  publish(await chartBundle(spec), CHART_METADATA);
}
