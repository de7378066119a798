/** Notebook-level outputs that the reproduce command and readers rely on: the profile line and the summary. */
import { type BackendInfo, initBackend } from "../backend";
import { describeProfile, Profile } from "../profile";
import { escapeHtml, MimeBundle, publish } from "./display";

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
