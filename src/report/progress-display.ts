/** A Progress callback that redraws one notebook output in place while a long cell runs. */
import type { Progress, ProgressEvent } from "../progress";
import { escapeHtml, MimeBundle, updatableDisplay } from "./display";

/** How fast a stage goes: measured from its first event, so a rate and the time left can be shown. */
export interface ProgressRate {
  seconds: number;
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** "stage: done/total unit (p%)", then ", R unit/s, T left" once `elapsed` seconds of the stage are known. */
export function progressBundle(event: ProgressEvent, elapsed?: ProgressRate): MimeBundle {
  const fraction = event.total > 0 ? Math.min(1, event.done / event.total) : 0;
  const percent = (100 * fraction).toFixed(0);
  const unit = event.unit ? ` ${event.unit}` : "";
  let label = `${event.stage}: ${event.done}/${event.total}${unit} (${percent}%)`;
  if (elapsed !== undefined && elapsed.seconds > 0 && event.done > 0) {
    const rate = event.done / elapsed.seconds;
    label += `, ${rate >= 100 ? rate.toFixed(0) : rate.toPrecision(3)}${unit || " items"}/s`;
    label += event.done < event.total ? `, ${clock((event.total - event.done) / rate)} left` : `, ${clock(elapsed.seconds)}`;
  }
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
  let stage = "";
  let stageStart = 0;
  return (event) => {
    const now = Date.now();
    if (event.stage !== stage) {
      stage = event.stage;
      stageStart = now;
    }
    if (now - last < intervalMs && event.done < event.total) return;
    last = now;
    output.show(progressBundle(event, { seconds: (now - stageStart) / 1000 }));
  };
}
