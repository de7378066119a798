/** Reads test/fixtures/parity (written by scripts/make-parity-fixtures.py): PyTorch reference inputs and outputs. */
import * as fs from "node:fs";
import * as path from "node:path";

export { maxAbsDiff } from "../../src/method/metrics";

const DIR = path.join(__dirname, "..", "fixtures", "parity");

interface Header {
  arrays: Record<string, { offset: number; shape: number[] }>;
  models: Record<string, { checkpoint: string; sha256: string }>;
}

export interface ParityFixture {
  count: number;
  inputs: Float32Array;
  models: Record<string, { checkpoint: string; logits: Float32Array; features: Float32Array }>;
}

export const MIRROR_DIR = path.join(__dirname, "..", "..", "..", "shared", "mirror", "pytorch_resnet_cifar10");

export function loadParityFixture(): ParityFixture {
  const header = JSON.parse(fs.readFileSync(path.join(DIR, "parity.json"), "utf8")) as Header;
  const bin = fs.readFileSync(path.join(DIR, "parity.bin"));
  const array = (key: string): Float32Array => {
    const { offset, shape } = header.arrays[key];
    const n = shape.reduce((a, b) => a * b, 1);
    // Copy out: the Buffer's offset into its pool need not be 4-byte aligned.
    return new Float32Array(bin.buffer.slice(bin.byteOffset + offset, bin.byteOffset + offset + 4 * n));
  };
  const models: ParityFixture["models"] = {};
  for (const [name, info] of Object.entries(header.models)) {
    models[name] = { checkpoint: path.join(MIRROR_DIR, info.checkpoint), logits: array(`${name}/logits`), features: array(`${name}/features`) };
  }
  return { count: header.arrays.inputs.shape[0], inputs: array("inputs"), models };
}
