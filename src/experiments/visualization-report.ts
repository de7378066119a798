/**
 * Figures and tables for notebook 05: per class, a PNG of test images beside the maps of S_y and of the
 * least-chosen channels (one colour scale per row), and the activation-energy table and grouped bar chart.
 */
import { IMAGE_BYTES, IMAGE_HEIGHT, IMAGE_WIDTH } from "../data/image-set";
import type { ChartSpec } from "../report/chart";
import { escapeHtml, type MimeBundle } from "../report/display";
import { overlayMap } from "../report/colormap";
import { composeRows, encodePng, mapGrid, type RgbaImage, solidImage, upscale, upscaleRgb } from "../report/image";
import { comparisonFrame } from "../report/frames";
import type { TableSource } from "../report/table";
import { plainTable } from "./sweep-report";
import { type ActivationMaps, channelMap } from "../method";
import { type AreaSummary, type FaithfulnessCurves, MAP_NAMES, meanCurves } from "./faithfulness";
import type { ChannelContrast, ClassEnergy } from "./visualization";

/** The histogram chart's colours, so the figure's group bars read the same way. */
const INFLUENTIAL_RGB: [number, number, number] = [0xd9, 0x5f, 0x02];
const OTHER_RGB: [number, number, number] = [0x9e, 0xca, 0xe1];
const TILE = 64;
const GROUP_GAP = 12;

/** One row of a class figure: a test image and its maps of the influential, then the non-influential channels. */
export interface MapRow {
  /** Position of the image in the test split. */
  testIndex: number;
  /** 32 x 32 x 3 RGB bytes. */
  pixels: Uint8Array;
  influential: Float32Array[];
  nonInfluential: Float32Array[];
  /** The row's shared colour scale: 0 (black) .. max (white). */
  max: number;
}

/**
 * The rows of one class: `maps` and `images` hold the same images in the same order; `positions` picks this
 * class's images among them and `testIndices` says where each came from in the test split.
 */
export function classMapRows(maps: ActivationMaps, images: Uint8Array, positions: number[], testIndices: number[], contrast: ChannelContrast): MapRow[] {
  if (images.length !== maps.count * IMAGE_BYTES) throw new Error(`${maps.count} maps but ${images.length / IMAGE_BYTES} images; pass the batch the maps came from`);
  return positions.map((n, k) => {
    const influential = contrast.influential.map((c) => channelMap(maps, n, c));
    const nonInfluential = contrast.nonInfluential.map((c) => channelMap(maps, n, c));
    let max = 0;
    for (const m of [...influential, ...nonInfluential]) for (const v of m) max = Math.max(max, v);
    return { testIndex: testIndices[k], pixels: images.subarray(n * IMAGE_BYTES, (n + 1) * IMAGE_BYTES), influential, nonInfluential, max };
  });
}

function mapTiles(maps: Float32Array[], size: number, max: number): RgbaImage[] {
  const scale = Math.max(1, Math.round(TILE / size));
  // ReLU maps are >= 0, so black means "no response"; an all-zero row still gets a valid scale.
  return maps.map((m) => mapGrid([m], size, m.length / size, { scale, gap: 0, range: { lo: 0, hi: max > 0 ? max : 1 } }));
}

/** The class figure as one image: a header bar over each group, then one row per test image. */
export function classMapImage(rows: MapRow[], mapWidth: number): RgbaImage {
  if (rows.length === 0) throw new Error("a class figure needs at least one image row");
  const groupWidth = (n: number) => n * TILE + (n - 1) * 2;
  const spacer = solidImage(GROUP_GAP, 1, [255, 255, 255]);
  const header = [
    solidImage(TILE, 6, [255, 255, 255]),
    solidImage(groupWidth(rows[0].influential.length), 6, INFLUENTIAL_RGB),
    spacer,
    solidImage(groupWidth(rows[0].nonInfluential.length), 6, OTHER_RGB),
  ];
  const body = rows.map((r) => [
    upscaleRgb(r.pixels, IMAGE_WIDTH, IMAGE_HEIGHT, TILE / IMAGE_WIDTH),
    ...mapTiles(r.influential, mapWidth, r.max),
    spacer,
    ...mapTiles(r.nonInfluential, mapWidth, r.max),
  ]);
  return composeRows([header, ...body]);
}

/** The class figure with a caption naming every column and row (HTML for the notebook, PNG inside). */
export function classMapFigure(className: string, contrast: ChannelContrast, rows: MapRow[], mapWidth: number, tensor: string): MimeBundle {
  const png = encodePng(classMapImage(rows, mapWidth)).toString("base64");
  const influential = contrast.influential.map((c, i) => `ch ${c} (#${i + 1})`).join(", ");
  const others = contrast.nonInfluential.map((c, i) => `ch ${c} (#${contrast.nonInfluentialRanks[i]})`).join(", ");
  const scales = rows.map((r) => `test #${r.testIndex}: 0..${r.max.toFixed(2)}`).join("; ");
  const caption =
    `<b>${escapeHtml(className)}</b>: ${rows.length} correctly classified test images, ${escapeHtml(tensor)} maps upscaled. ` +
    `Columns after the image: <span style="color:#d95f02"><b>influential S_y</b></span> ${influential}, then ` +
    `<span style="color:#3182bd"><b>non-influential</b></span> (lowest in the class histogram) ${others}; #r = rank in the class histogram. ` +
    `One grey scale per row, black = 0: ${scales}.`;
  return {
    "text/html": `<figure style="margin:0 0 12px 0"><figcaption style="max-width:820px;font-size:12px">${caption}</figcaption><img src="data:image/png;base64,${png}" alt="${escapeHtml(className)} feature maps"></figure>`,
    "image/png": png,
    "text/plain": `${className}: maps of S_y ${contrast.influential.join(", ")} vs ${contrast.nonInfluential.join(", ")} on test images ${rows.map((r) => r.testIndex).join(", ")}`,
  };
}

/** Per class: mean pooled activation of S_y, of the other channels and of the lowest-ranked ones. */
export function energyTable(energies: ClassEnergy[], classNames: readonly string[], k2: number, lowestCount: number): TableSource {
  return plainTable(
    [
      "class",
      "test images",
      `S_y (k2 = ${k2}) mean activation`,
      "other channels mean",
      `lowest ${lowestCount} mean`,
      "S_y / others",
      "S_y on other classes' images",
      "images with S_y > others (%)",
    ],
    energies.map((e, y) => [
      classNames[y],
      e.images,
      e.influentialMean,
      e.othersMean,
      e.lowestMean,
      e.othersMean > 0 ? e.influentialMean / e.othersMean : null,
      e.influentialOnOtherClasses,
      100 * e.influentialAboveOthers,
    ]),
  );
}

/** Grouped bars per class: S_y, S_y on the other classes' images, the other channels, the lowest-ranked ones. */
export function energyChart(energies: ClassEnergy[], classNames: readonly string[], lowestCount: number): ChartSpec {
  const groups = ["S_y on class images", "S_y on other classes' images", "other channels", `lowest ${lowestCount}`];
  const values = energies.flatMap((e, y) =>
    [e.influentialMean, e.influentialOnOtherClasses, e.othersMean, e.lowestMean].map((v, g) => ({ className: classNames[y], group: groups[g], order: g, value: v })),
  );
  return {
    title: "Mean pooled activation per channel group, test images of each class",
    width: 720,
    height: 240,
    data: { values },
    mark: "bar",
    encoding: {
      x: { field: "className", type: "nominal", sort: [...classNames], title: null },
      xOffset: { field: "group", type: "nominal", sort: groups },
      y: { field: "value", type: "quantitative", title: "mean pooled activation" },
      color: { field: "group", type: "nominal", sort: groups, scale: { domain: groups, range: ["#d95f02", "#fdae6b", "#9ecae1", "#3182bd"] }, title: null },
      tooltip: [
        { field: "className", type: "nominal" },
        { field: "group", type: "nominal" },
        { field: "value", type: "quantitative", format: ".4f" },
      ],
    },
  };
}

/** The decomposition whose filters are drawn, for reference: A_f and A_d (%) beside the paper's when it applies. */
export function decompositionReference(fullAccuracy: number, decomposedAccuracy: number, k1: number, k2: number, paperApplies: boolean) {
  return comparisonFrame([
    { quantity: "full layer (A_f)", ours: 100 * fullAccuracy, paper: paperApplies ? "resnet20FullAccuracy" : undefined },
    { quantity: `decomposed, k1 = ${k1}, k2 = ${k2} (A_d)`, ours: 100 * decomposedAccuracy, paper: paperApplies ? "resnet20DecomposedK5" : undefined },
  ]);
}

/** One image of the overlay figure: its maps (input size, [0, 1]) in the order of the figure's columns. */
export interface OverlayRow {
  className: string;
  testIndex: number;
  /** height x width x 3 RGB bytes at the model's input size. */
  pixels: Uint8Array;
  maps: Float32Array[];
}

/** Overlay tiles are shown about this wide, in whole multiples of the input so pixels stay square. */
const OVERLAY_TILE = 96;

/**
 * The paper's Table 7 layout: class, image, then one overlay per map column (e.g. standard, non-influential,
 * influential). An HTML table of PNG tiles, each tagged with its expected size so a browser check can verify it
 * loaded whole; the same grid as one PNG for front ends without HTML.
 */
export function overlayFigure(rows: OverlayRow[], columns: string[], size: [number, number], alpha: number, caption: string): MimeBundle {
  if (rows.length === 0) throw new Error("an overlay figure needs at least one image");
  const [height, width] = size;
  rows.forEach((r) => {
    if (r.maps.length !== columns.length) throw new Error(`test image #${r.testIndex} has ${r.maps.length} maps for ${columns.length} columns`);
  });
  const scale = Math.max(1, Math.round(OVERLAY_TILE / width));
  const tiles = rows.map((r) => [upscaleRgb(r.pixels, width, height, scale), ...r.maps.map((m) => upscale(overlayMap(r.pixels, width, height, m, alpha), scale))]);
  const img = (t: RgbaImage, alt: string) =>
    `<img src="data:image/png;base64,${encodePng(t).toString("base64")}" width="${t.width}" height="${t.height}" data-expected-width="${t.width}" data-expected-height="${t.height}" alt="${escapeHtml(alt)}">`;
  const head = ["class", "image", ...columns].map((c) => `<th style="text-align:center">${escapeHtml(c)}</th>`).join("");
  const body = rows
    .map((r, i) => {
      const cells = tiles[i].map((t, j) => `<td style="padding:2px">${img(t, `${r.className} #${r.testIndex}: ${j === 0 ? "image" : columns[j - 1]}`)}</td>`).join("");
      return `<tr><td style="text-align:left">${escapeHtml(r.className)}<br><small>test #${r.testIndex}</small></td>${cells}</tr>`;
    })
    .join("");
  const grid = composeRows(tiles);
  return {
    "text/html": `<figure style="margin:0 0 12px 0"><figcaption style="max-width:820px;font-size:12px">${caption}</figcaption><table class="decomp-overlays"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></figure>`,
    "image/png": encodePng(grid).toString("base64"),
    "text/plain": `overlays (${columns.join(", ")}) of test images ${rows.map((r) => `${r.className} #${r.testIndex}`).join(", ")}`,
  };
}

/** Deletion and insertion AUC per map: mean over images with its standard error. */
export function faithfulnessTable(summary: AreaSummary[]): TableSource {
  const of = (map: string, kind: string) => summary.find((s) => s.map === map && s.kind === kind)!;
  return plainTable(
    ["map", "deletion AUC (lower = more faithful)", "deletion s.e.", "insertion AUC (higher = more faithful)", "insertion s.e.", "insertion - deletion"],
    MAP_NAMES.map((m) => {
      const d = of(m, "deletion");
      const i = of(m, "insertion");
      return [m, d.mean, d.standardError, i.mean, i.standardError, i.mean - d.mean];
    }),
  );
}

/** The mean deletion and insertion curves, one line per map, side by side. */
export function faithfulnessChart(result: FaithfulnessCurves, className = "true class"): ChartSpec {
  return {
    title: `Mean ${className} probability as the pixels a map ranks highest are removed (deletion) or restored (insertion)`,
    data: { values: meanCurves(result) },
    mark: { type: "line", point: true },
    width: 320,
    height: 220,
    encoding: {
      column: { field: "kind", type: "nominal", sort: ["deletion", "insertion"], title: null },
      x: { field: "fraction", type: "quantitative", title: "fraction of pixels changed", axis: { format: "%" } },
      y: { field: "probability", type: "quantitative", title: `mean probability of the ${className}`, scale: { domain: [0, 1] } },
      color: { field: "map", type: "nominal", sort: [...MAP_NAMES], scale: { domain: [...MAP_NAMES], range: ["#d95f02", "#3182bd", "#31a354", "#969696"] }, title: null },
      tooltip: [
        { field: "map", type: "nominal" },
        { field: "kind", type: "nominal" },
        { field: "fraction", type: "quantitative", format: ".0%" },
        { field: "probability", type: "quantitative", format: ".4f" },
      ],
    },
  };
}
