import * as vega from "vega";
import { CHART_METADATA, chartBundle, chartSvg, ChartSpec, showChart, VEGA_MIME, VEGALITE_MIME } from "../../src/report/chart";

const bars: ChartSpec = {
  title: "three bars",
  data: { values: [{ k: "a", v: 1 }, { k: "b", v: 3 }, { k: "c", v: 2 }] },
  mark: "bar",
  encoding: { x: { field: "k", type: "nominal" }, y: { field: "v", type: "quantitative" } },
};

describe("report charts", () => {
  it("renders a known spec to SVG with one mark per datum", async () => {
    const svg = await chartSvg(bars);
    expect(svg.startsWith("<svg")).toBe(true);
    const group = /<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/.exec(svg);
    expect(group).not.toBeNull();
    expect(group![1].match(/<path /g)).toHaveLength(3);
    expect(svg).toContain("three bars");
    // Bar heights follow the data: b (3) is three times a (1).
    const heights = [...group![1].matchAll(/d="M[\d.]+,([\d.]+)h[\d.]+v([\d.]+)h/g)].map((m) => Number(m[2]));
    expect(heights[1] / heights[0]).toBeCloseTo(3, 5);
  });

  it("bundles the interactive spec as a JSON object with the static SVG in one output", async () => {
    const bundle = await chartBundle(bars);
    expect(Object.keys(bundle).sort()).toEqual([VEGA_MIME, VEGALITE_MIME, "text/markdown", "text/plain"].sort());
    expect(VEGALITE_MIME).toBe("application/vnd.vegalite.v5+json");
    expect(VEGA_MIME).toBe("application/vnd.vega.v5+json");
    expect(bundle[VEGALITE_MIME]).toEqual(bars);
    expect(typeof bundle[VEGALITE_MIME]).toBe("object");
    const md = bundle["text/markdown"] as string;
    expect(md).toMatch(/^<div class="decomp-chart"><svg [^\n]*<\/svg><\/div>$/);
    expect(bundle["text/plain"]).toBe("Vega-Lite chart: three bars");
  });

  it("carries the compiled Vega 5 spec (what JupyterLab 3.6 draws), which renders to the static SVG", async () => {
    const bundle = await chartBundle(bars);
    const compiled = bundle[VEGA_MIME] as vega.Spec;
    expect(compiled.$schema).toMatch(/vega\/v5/);
    expect(JSON.parse(JSON.stringify(compiled))).toEqual(compiled);
    const view = new vega.View(vega.parse(JSON.parse(JSON.stringify(compiled))), { renderer: "none" });
    try {
      const svg = (await view.toSVG()).replace(/\n/g, " ");
      expect(bundle["text/markdown"]).toBe(`<div class="decomp-chart">${svg}</div>`);
    } finally {
      view.finalize();
    }
  });

  it("publishes the bundle with SVG rendering asked of JupyterLab's Vega renderer for both specs", async () => {
    const sent: { data: Record<string, unknown>; metadata: Record<string, unknown> }[] = [];
    jupyter.lastWriteDisplayData = (content: (typeof sent)[number]) => sent.push(content);
    try {
      await showChart(bars);
    } finally {
      jupyter.lastWriteDisplayData = null;
    }
    expect(sent).toHaveLength(1);
    expect(sent[0].data).toEqual(await chartBundle(bars));
    expect(sent[0].metadata).toEqual({ [VEGA_MIME]: { embed_options: { renderer: "svg" } }, [VEGALITE_MIME]: { embed_options: { renderer: "svg" } } });
    expect(sent[0].metadata).toEqual(CHART_METADATA);
  });
});

// The hook tslab's kernel installs for the running cell; the publish test stands in for it.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };

it("leaves the caller's data objects untouched", async () => {
  const values = [{ k: "a", v: 1 }];
  await chartSvg({ ...bars, data: { values } });
  expect(Object.getOwnPropertySymbols(values[0])).toEqual([]);
});
