/**
 * How to start a sibling module as a worker thread or a child process: its compiled .js next to the caller in
 * dist/, or, when the caller itself runs from TypeScript source (jest, scripts), the .ts source through the
 * project's transpile-only hook (scripts/register-ts.js).
 */
import * as path from "node:path";

export function moduleEntry(callerFile: string, name: string): { file: string; execArgv: string[] } {
  const fromSource = path.extname(callerFile) === ".ts";
  const dir = path.dirname(callerFile);
  const root = path.resolve(__dirname, "..");
  return {
    file: path.join(dir, `${name}${fromSource ? ".ts" : ".js"}`),
    execArgv: fromSource ? ["-r", path.join(root, "scripts", "register-ts.js")] : [],
  };
}
