/** The shape of one `decomp` subcommand and the helpers every command shares (argument parsing, output). */
import { parseArgs, type ParseArgsConfig } from "node:util";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string] & { description: string; valueName?: string };

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  /** Human-readable lines go here (stderr when --json is set, so stdout stays one JSON object). */
  log: (line: string) => void;
  json: boolean;
}

export interface Command {
  name: string;
  summary: string;
  /** Positional arguments, for the usage line, e.g. "<artifact>". */
  positionals?: string;
  options: Record<string, OptionSpec>;
  /** Returns the object printed by --json; its human form has already been logged. */
  run(values: OptionValues, positionals: string[], ctx: CommandContext): Promise<Record<string, unknown>>;
}

export const JSON_OPTION: OptionSpec = { type: "boolean", description: "print one JSON object on stdout (progress stays on stderr)" };
export const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", description: "show this help" };

export function usage(cmd: Command): string {
  const lines = [`decomp ${cmd.name}${cmd.positionals ? ` ${cmd.positionals}` : ""} [options]`, "", cmd.summary, "", "Options:"];
  const all = { ...cmd.options, json: JSON_OPTION, help: HELP_OPTION };
  for (const [name, spec] of Object.entries(all)) {
    const flag = `--${name}${spec.type === "string" ? ` ${spec.valueName ?? "VALUE"}` : ""}`;
    const dflt = spec.default !== undefined ? ` (default: ${spec.default})` : "";
    lines.push(`  ${flag.padEnd(26)} ${spec.description}${dflt}`);
  }
  return lines.join("\n");
}

export function parseCommandArgs(cmd: Command, argv: string[]) {
  const options = Object.fromEntries(
    Object.entries({ ...cmd.options, json: JSON_OPTION, help: HELP_OPTION }).map(([k, { description: _d, valueName: _v, ...o }]) => [k, o]),
  );
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new Error(`${(err as Error).message}\nRun 'decomp ${cmd.name} --help' for the options.`);
  }
}

/** Parses an integer option with a range check, naming the option in the error. */
export function intOption(values: OptionValues, name: string, min = -Infinity, max = Infinity): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = Number.isFinite(min) || Number.isFinite(max) ? ` in ${min}..${max}` : "";
    throw new Error(`--${name} must be an integer${range}, got "${raw}"`);
  }
  return n;
}

/** Parses a number option (decimal or exponent notation), naming the option in the error. */
export function numberOption(values: OptionValues, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (String(raw).trim() === "" || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${raw}"`);
  return n;
}

/** A fraction as a percentage rounded to 4 decimals, so JSON shows 93.1 rather than 93.10000000000001. */
export function percent(fraction: number): number {
  return Math.round(fraction * 1e6) / 1e4;
}
