/**
 * The bench's measurements that must run alone in a process (so that the process's peak RSS is theirs): the
 * parent side starts a sibling module with one JSON argument and reads one JSON object from its stdout; the
 * child side runs its body on that argument and writes the result.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { moduleEntry } from "../runtime-entry";

const run = promisify(execFile);

/** This process's peak resident memory so far (ru_maxrss, which Node gives in KiB), in MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Runs the sibling module `name` of `callerFile` (see childMain) as a child process on `args`. */
export async function runBenchChild<A, R>(callerFile: string, name: string, args: A): Promise<R> {
  const { file, execArgv } = moduleEntry(callerFile, name);
  const { stdout } = await run(process.execPath, [...execArgv, file, JSON.stringify(args)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as R;
}

/** The child's side of runBenchChild: its argument parsed, its result printed; a failure exits 1 with the stack. */
export function childMain<A, R>(body: (args: A) => Promise<R>): void {
  body(JSON.parse(process.argv[2]) as A)
    .then((result) => process.stdout.write(JSON.stringify(result) + "\n"))
    .catch((err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exit(1);
    });
}
