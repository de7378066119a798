/** Tables: a danfojs DataFrame as a styled HTML table, with the paper's column set apart from ours. */
import type { DataFrame } from "danfojs-node";
import { escapeHtml, MimeBundle, publish } from "./display";

/** Column label for the paper's numbers; every table that shows one uses exactly this header. */
export const PAPER_COLUMN = "paper (Badola et al.)";

export interface TableOptions {
  caption?: string;
  /** Decimal places for non-integer numbers (default 2). */
  digits?: number;
}

/** The parts of a danfojs DataFrame a table needs; a plain object with the same shape works too. */
export type TableSource = Pick<DataFrame, "columns" | "values">;

const CELL = "padding:4px 10px;border-bottom:1px solid #ddd;";
const PAPER_CELL = "background:#fff6e0;color:#6b4a00;font-style:italic;";

function rowsOf(source: TableSource): unknown[][] {
  const values = source.values as unknown[];
  // A one-column frame still holds rows of arrays; a Series-like 1-D array is one row per value.
  return values.map((row) => (Array.isArray(row) ? row : [row]));
}

export function formatCell(value: unknown, digits = 2): string {
  if (value === null || value === undefined || (typeof value === "number" && Number.isNaN(value))) return "—";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(digits);
  return String(value);
}

export function tableHtml(source: TableSource, options: TableOptions = {}): string {
  const { columns } = source;
  const isPaper = columns.map((c) => c === PAPER_COLUMN || c.startsWith("paper "));
  const header = columns
    .map((c, i) => `<th style="${CELL}text-align:left;${isPaper[i] ? PAPER_CELL : ""}">${escapeHtml(c)}</th>`)
    .join("");
  const body = rowsOf(source)
    .map((row) => {
      const cells = row.map((v, i) => {
        const align = typeof v === "number" ? "right" : "left";
        return `<td style="${CELL}text-align:${align};${isPaper[i] ? PAPER_CELL : ""}">${escapeHtml(formatCell(v, options.digits))}</td>`;
      });
      return `<tr>${cells.join("")}</tr>`;
    })
    .join("\n");
  const caption = options.caption
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0;">${escapeHtml(options.caption)}</caption>`
    : "";
  const note = isPaper.some(Boolean)
    ? `<div style="font-size:85%;color:#6b4a00;margin-top:4px;">Shaded columns are numbers reported in the paper, not our measurements.</div>`
    : "";
  return (
    `<div class="decomp-table"><table style="border-collapse:collapse;font-family:sans-serif;font-size:13px;">` +
    `${caption}<thead><tr>${header}</tr></thead>\n<tbody>\n${body}\n</tbody></table>${note}</div>`
  );
}

/** Fixed-width text for consoles and the text/plain fallback. */
export function tableText(source: TableSource, options: TableOptions = {}): string {
  const cells = [source.columns, ...rowsOf(source).map((r) => r.map((v) => formatCell(v, options.digits)))];
  const widths = source.columns.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const lines = cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return (options.caption ? `${options.caption}\n` : "") + lines.join("\n");
}

export function tableBundle(source: TableSource, options: TableOptions = {}): MimeBundle {
  return { "text/html": tableHtml(source, options), "text/plain": tableText(source, options) };
}

export function showTable(source: TableSource, options: TableOptions = {}): void {
  publish(tableBundle(source, options));
}
