/**
 * `decomp forward` on a NumPy batch: the parity fixture's images (scripts/make-parity-fixtures.py) in NCHW order,
 * logits and features checked against PyTorch's, and wrong inputs or weights refused naming what is wrong.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodeNpy, encodeNpy } from "../../src/data/npy";
import { saveFineTuned } from "../../src/training";
import { loadTorchCheckpoint } from "../../src/torch";
import { loadParityFixture, maxAbsDiff, MIRROR_DIR } from "../models/parity-fixture";
import { runCli } from "./run-cli";

const fixture = loadParityFixture();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-forward-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** The fixture's NHWC inputs as an NCHW .npy file. */
function writeInput(file: string, count = fixture.count): void {
  const nchw = new Float32Array(count * 3 * 32 * 32);
  for (let i = 0; i < count; i++) for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) nchw[((i * 3 + c) * 1024) + p] = fixture.inputs[(i * 1024 + p) * 3 + c];
  fs.writeFileSync(file, encodeNpy({ shape: [count, 3, 32, 32], data: nchw }));
}

const relative = (ours: Float32Array, reference: Float32Array) => maxAbsDiff(ours, reference) / reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe("decomp forward", () => {
  const input = path.join(scratch, "x.npy");
  beforeAll(() => writeInput(input));

  it.each([["the registry's checkpoint", []], ["--weights with the checkpoint file", ["--weights", fixture.models.resnet20.checkpoint]]])(
    "matches PyTorch's logits and features with %s",
    async (_, extra) => {
      const out = path.join(scratch, `out-${extra.length}`);
      const { code, stderr, stdout } = await runCli("forward", "--model", "resnet20", "--input", input, "--out", out, ...(extra as string[]), "--json");
      expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(stdout).images).toBe(fixture.count);
      const logits = decodeNpy(new Uint8Array(fs.readFileSync(path.join(out, "logits.npy"))));
      const features = decodeNpy(new Uint8Array(fs.readFileSync(path.join(out, "features.npy"))));
      expect(logits.shape).toEqual([fixture.count, 10]);
      expect(features.shape).toEqual([fixture.count, 64]);
      expect(relative(logits.data, fixture.models.resnet20.logits)).toBeLessThan(1e-4);
      expect(relative(features.data, fixture.models.resnet20.features)).toBeLessThan(1e-4);
    },
    120000,
  );

  it("reads a decomp model file as --weights", async () => {
    const { stateDict } = await loadTorchCheckpoint(fixture.models.resnet20.checkpoint);
    const file = path.join(scratch, "model.dctn");
    await saveFineTuned(file, stateDict, { model: "resnet20", sets: [] });
    const out = path.join(scratch, "out-dctn");
    const { code } = await runCli("forward", "--input", input, "--out", out, "--weights", file);
    expect(code).toBe(0);
    const logits = decodeNpy(new Uint8Array(fs.readFileSync(path.join(out, "logits.npy"))));
    expect(relative(logits.data, fixture.models.resnet20.logits)).toBeLessThan(1e-4);
  }, 120000);

  it("refuses a batch of the wrong shape, a missing file and weights of another architecture, naming them", async () => {
    const wrong = path.join(scratch, "nhwc.npy");
    fs.writeFileSync(wrong, encodeNpy({ shape: [2, 32, 32, 3], data: new Float32Array(2 * 3072) }));
    const cases: [string[], RegExp][] = [
      [["--input", wrong], /resnet20 takes a float32 batch of shape \(N, 3, 32, 32\) in NCHW order.*got \(2, 32, 32, 3\)/],
      [["--input", path.join(scratch, "absent.npy")], /--input .*absent\.npy does not exist/],
      [["--input", input, "--weights", path.join(MIRROR_DIR, "resnet32-d509ac18.th")], /has 'layer1\.3\.conv1\.weight', which resnet20 does not have; is it a resnet20 checkpoint\?/],
      [["--input", input, "--model", "resnet32", "--weights", fixture.models.resnet20.checkpoint], /has no 'layer1\.3\.conv1\.weight' \(shape \[16, 16, 3, 3\]\), which resnet32 needs/],
      [["--input", input, "--weights", path.join(scratch, "nothing.th")], /weights file .*nothing\.th does not exist/],
    ];
    for (const [argv, message] of cases) {
      const { code, stderr } = await runCli("forward", "--out", path.join(scratch, "refused"), ...argv);
      expect({ argv, code, stderr }).toEqual({ argv, code: 1, stderr: expect.stringMatching(message) });
    }
    const truncated = path.join(scratch, "truncated.th");
    const bytes = fs.readFileSync(fixture.models.resnet20.checkpoint);
    fs.writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
    const { code, stderr } = await runCli("forward", "--input", input, "--out", path.join(scratch, "refused"), "--weights", truncated);
    expect(code).toBe(1);
    expect(stderr).toContain(truncated);
    expect(fs.existsSync(path.join(scratch, "refused"))).toBe(false);
  }, 120000);
});
