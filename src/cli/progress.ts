/**
 * Renders library progress events on stderr: one updating line on a terminal; elsewhere (logs, CI) a line at
 * most every few seconds per stage plus the final one, so short steps stay quiet and long ones show life.
 */
import type { Progress } from "../progress";

const LOG_INTERVAL_MS = 5000;

export function stderrProgress(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): Progress {
  const started = new Map<string, number>();
  const lastShown = new Map<string, number>();
  return ({ stage, done, total, unit }) => {
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    const text = `${stage}: ${done}/${total}${unit ? ` ${unit}` : ""} (${pct}%)`;
    const finished = done >= total;
    if (stream.isTTY) {
      stream.write(`\r${text}\x1b[K${finished ? "\n" : ""}`);
      return;
    }
    const t = now();
    if (!started.has(stage)) started.set(stage, t);
    const quietSince = lastShown.get(stage) ?? started.get(stage)!;
    // A stage that ends within the first interval is reported once, by its final line, only if it took a while.
    if (finished ? t - started.get(stage)! >= 1000 || lastShown.has(stage) : t - quietSince >= LOG_INTERVAL_MS) {
      lastShown.set(stage, t);
      stream.write(`${text}\n`);
    }
    if (finished) {
      started.delete(stage);
      lastShown.delete(stage);
    }
  };
}
