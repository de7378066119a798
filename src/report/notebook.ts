/** Notebook-level outputs that the reproduce command and readers rely on: the profile line and the summary. */
import { type BackendInfo, initBackend } from "../backend";
import { describeProfile, Profile } from "../profile";
import { escapeHtml, MimeBundle, publish } from "./display";
import { PAPER_COLUMN, tableBundle, type TableSource } from "./table";

/** Mime type the reproduce command looks for to put a notebook's one-line summary in reports/index.html. */
export const SUMMARY_MIME = "application/vnd.decomp.summary+json";

export function summaryBundle(summary: string): MimeBundle {
  const line = summary.replace(/\s+/g, " ").trim();
  return {
    [SUMMARY_MIME]: { summary: line },
    "text/markdown": `**Summary:** ${escapeHtml(line)}`,
    "text/plain": `Summary: ${line}`,
  };
}

export function showSummary(summary: string): void {
  publish(summaryBundle(summary));
}

/** Mime type of a notebook's headline rows, one per paper table or figure, collected into reports/index.html. */
export const HEADLINES_MIME = "application/vnd.decomp.headlines+json";

/** One paper table or figure: our headline number beside the paper's, or why there is none of ours. */
export interface Headline {
  /** The paper's table or figure, e.g. "Table 8" or "Fig. 3". */
  item: string;
  quantity: string;
  /** Our number as shown (with its interval where it has one); null when only the paper's exists. */
  ours: string | null;
  paper: string | null;
  /** Why `ours` is missing (what is needed to measure it); required when it is. */
  reason?: string;
  /** The notebook heading of the section that shows it, for the index's link. */
  section?: string;
}

/** "measured", or "paper only: <why>" for a row without a number of ours. */
export function headlineStatus(h: Headline): string {
  return h.ours === null ? `paper only: ${h.reason}` : "measured";
}

export function headlinesBundle(rows: Headline[]): MimeBundle {
  for (const r of rows) if (r.ours === null && !r.reason) throw new Error(`headline "${r.item}: ${r.quantity}" has no number of ours and no reason why`);
  const source = {
    columns: ["paper item", "quantity", "ours", PAPER_COLUMN, "status"],
    values: rows.map((r) => [r.item, r.quantity, r.ours, r.paper, headlineStatus(r)]),
  } as unknown as TableSource;
  return { [HEADLINES_MIME]: { headlines: rows }, ...tableBundle(source, { caption: "Headline numbers of this notebook (collected into reports/index.html)" }) };
}

export function showHeadlines(rows: Headline[]): void {
  publish(headlinesBundle(rows));
}

export function profileBundle(profile: Profile): MimeBundle {
  const line = describeProfile(profile);
  return { "text/markdown": `\`${line}\``, "text/plain": line };
}

export function showProfile(profile: Profile): void {
  publish(profileBundle(profile));
}

/**
 * Chooses the tensor backend once and states it in the notebook. The line goes to stdout: it is information,
 * and the reproduce command and its tests treat anything on a notebook's stderr as a problem.
 */
export async function showBackend(): Promise<BackendInfo> {
  return initBackend({ logger: (line) => console.log(line) });
}
