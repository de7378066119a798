#!/usr/bin/env node
// Runs the compiled CLI; rebuilds first when src/ is newer than dist/, so edits to the library take effect.
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const entry = path.join(root, "dist", "cli", "main.js");

function newestMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

if (!fs.existsSync(entry) || newestMtime(path.join(root, "src")) > fs.statSync(entry).mtimeMs) {
  process.stderr.write("decomp: compiling src/ (it changed since the last build)...\n");
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  try {
    // Compiler messages go to stderr so that stdout stays one JSON object under --json.
    execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: ["ignore", process.stderr, process.stderr] });
  } catch {
    // tsc still emits JavaScript when it finds type errors; run that, but say so.
    if (!fs.existsSync(entry)) process.exit(1);
    process.stderr.write("decomp: src/ has type errors (above); running the emitted JavaScript anyway.\n");
  }
  // tsc leaves unchanged outputs untouched; mark the build as current.
  const now = new Date();
  fs.utimesSync(entry, now, now);
}

require(entry).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`decomp: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  },
);
