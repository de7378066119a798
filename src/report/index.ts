/** Everything a notebook uses to show results: tables, charts, images, progress, paper values. */
export { publish, updatableDisplay } from "./display";
export type { MimeBundle, UpdatableDisplay } from "./display";
export { PAPER_COLUMN, showTable, tableBundle, tableHtml, tableText } from "./table";
export type { TableOptions, TableSource } from "./table";
export { CHART_METADATA, VEGA_MIME, VEGALITE_MIME, chartBundle, chartSvg, showChart } from "./chart";
export type { ChartSpec } from "./chart";
export { composeRows, encodePng, mapGrid, pngBundle, showPng, solidImage, upscale, upscaleRgb } from "./image";
export { VIRIDIS, overlayMap, viridis } from "./colormap";
export type { GridOptions, RgbaImage } from "./image";
export { progressBundle, progressDisplay } from "./progress-display";
export { OURS_COLUMN, SOURCE_COLUMN, comparisonFrame, paperClaimsFrame } from "./frames";
export type { ComparisonRow } from "./frames";
export { PAPER, PAPER_CITATION, PAPER_IMAGENET } from "./paper";
export type { PaperImageNetRow, PaperKey, PaperValue } from "./paper";
export { HEADLINES_MIME, SUMMARY_MIME, headlinesBundle, profileBundle, showBackend, showHeadlines, showProfile, showSummary, summaryBundle } from "./notebook";
export type { Headline } from "./notebook";
