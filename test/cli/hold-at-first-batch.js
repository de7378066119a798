/**
 * Test hook, preloaded with `node -r` into a CLI child process: holds the process for good right after it reports
 * the first finished batch of the stage named by DECOMP_TEST_HOLD_STAGE, so a test can kill it at that point
 * however fast the machine is. Progress is rendered line by line (stderr looks like a terminal), the hold
 * announces itself on stderr, and Atomics.wait blocks the main thread where the next batch would start.
 */
const stage = process.env.DECOMP_TEST_HOLD_STAGE;
if (!stage) throw new Error("hold-at-first-batch.js needs DECOMP_TEST_HOLD_STAGE");
const write = process.stderr.write.bind(process.stderr);
process.stderr.isTTY = true;
process.stderr.write = (chunk, ...rest) => {
  const ok = write(chunk, ...rest);
  const text = String(chunk);
  const at = text.indexOf(stage);
  const m = at < 0 ? null : /: (\d+)\/(\d+)/.exec(text.slice(at));
  if (m !== null && Number(m[1]) > 0 && Number(m[1]) < Number(m[2])) {
    write(`\ndecomp-test: held at ${m[1]}/${m[2]}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
  return ok;
};
