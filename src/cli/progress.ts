/** Renders library progress events on stderr: one updating line on a terminal, a line per 10% otherwise. */
import type { Progress } from "../progress";

export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const lastShown = new Map<string, number>();
  return ({ stage, done, total, unit }) => {
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    const text = `${stage}: ${done}/${total}${unit ? ` ${unit}` : ""} (${pct}%)`;
    if (stream.isTTY) {
      stream.write(`\r${text}\x1b[K${done >= total ? "\n" : ""}`);
      return;
    }
    const decile = Math.floor(pct / 10);
    if (lastShown.get(stage) === decile && done < total) return;
    lastShown.set(stage, decile);
    stream.write(`${text}\n`);
  };
}
