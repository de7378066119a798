/** Entry point of the `decomp` command: picks the subcommand, handles --help and --json, maps errors to exit codes. */
import { type Command, parseCommandArgs, usage } from "./command";
import { benchCommand } from "./commands/bench";
import { csgCommand } from "./commands/csg";
import { evalCommand } from "./commands/eval";
import { exportCommand } from "./commands/export";
import { fetchCommand } from "./commands/fetch";
import { forwardCommand } from "./commands/forward";
import { extractCommand, mergeCommand } from "./commands/imagenet";
import { modelsCommand } from "./commands/models";
import { selectCommand } from "./commands/select";
import { probeCommand } from "./commands/probe";

const COMMANDS: Command[] = [fetchCommand, modelsCommand, evalCommand, selectCommand, probeCommand, extractCommand, mergeCommand, csgCommand, forwardCommand, exportCommand, benchCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "decomp: class-specific filters in deep CNNs (Badola et al.), reproduced in TypeScript",
    "",
    "Usage: decomp <command> [options]    (decomp <command> --help for a command's options)",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary.split(". ")[0].replace(/\.$/, "")}`),
  ].join("\n");
}

/** Runs the CLI with the given arguments (without `node decomp`) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${overview()}\n`);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`decomp: unknown command "${name}". Known commands: ${COMMANDS.map((c) => c.name).join(", ")}.\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseCommandArgs(cmd, rest);
  } catch (err) {
    process.stderr.write(`decomp ${cmd.name}: ${(err as Error).message}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage(cmd)}\n`);
    return 0;
  }
  const json = Boolean(parsed.values.json);
  const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  try {
    const result = await cmd.run(parsed.values, parsed.positionals, { log, json });
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`decomp ${cmd.name}: ${(err as Error).message}\n`);
    return 1;
  }
}
