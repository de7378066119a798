/** A Progress callback that redraws one notebook output in place while a long cell runs. */
import type { Progress, ProgressEvent } from "../progress";
import { escapeHtml, MimeBundle, updatableDisplay } from "./display";

export function progressBundle(event: ProgressEvent): MimeBundle {
  const fraction = event.total > 0 ? Math.min(1, event.done / event.total) : 0;
  const percent = (100 * fraction).toFixed(0);
  const unit = event.unit ? ` ${event.unit}` : "";
  const label = `${event.stage}: ${event.done}/${event.total}${unit} (${percent}%)`;
  return {
    "text/html":
      `<div class="decomp-progress" style="font-family:sans-serif;font-size:12px;">` +
      `<div style="width:320px;height:10px;background:#e6e6e6;display:inline-block;vertical-align:middle;">` +
      `<div style="width:${percent}%;height:10px;background:#3b7dd8;"></div></div> ${escapeHtml(label)}</div>`,
    "text/plain": label,
  };
}

/**
 * Returns a Progress that shows the latest event in a single output (Jupyter update_display_data), redrawn at
 * most every `intervalMs` so fast loops do not flood the kernel channel; the final event is always drawn.
 */
export function progressDisplay(intervalMs = 250): Progress {
  const output = updatableDisplay();
  let last = -Infinity;
  return (event) => {
    const now = Date.now();
    if (now - last < intervalMs && event.done < event.total) return;
    last = now;
    output.show(progressBundle(event));
  };
}
