import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveMirrorDir } from "../../src/artifacts/paths";
import { loadTorchCheckpoint, readTorchCheckpoint, TorchCheckpoint } from "../../src/torch";

const FIXTURES = join(__dirname, "..", "fixtures", "torch");
// The mirror decomp itself reads ($DECOMP_MIRROR, else ../shared/mirror); every checkout here and in CI has one.
const MIRROR = join(resolveMirrorDir() ?? join(__dirname, "..", "..", "..", "shared", "mirror"), "pytorch_resnet_cifar10");

interface SmallExpectation {
  meta: Record<string, unknown>;
  tensors: Record<string, { shape: number[]; values: number[] }>;
}
interface ResnetExpectation {
  meta: Record<string, number>;
  count: number;
  elements: number;
  sum: number;
  abs_sum: number;
  tensors?: Record<string, { shape: number[]; sum: number; spot: [number, number][] }>;
}
/** Written by scripts/make-torch-fixtures.py from what torch.load returns. */
const expected = JSON.parse(readFileSync(join(FIXTURES, "expected.json"), "utf8")) as {
  small: Record<string, SmallExpectation>;
  resnet: Record<string, ResnetExpectation>;
};

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));

function expectMatchesTorch(checkpoint: TorchCheckpoint, want: SmallExpectation): void {
  expect(checkpoint.meta).toEqual(want.meta);
  expect([...checkpoint.stateDict.keys()]).toEqual(Object.keys(want.tensors));
  for (const [name, tensor] of checkpoint.stateDict) {
    expect({ name, shape: tensor.shape }).toEqual({ name, shape: want.tensors[name].shape });
    // float32 values survive JSON exactly, so anything but equality is a reader bug.
    expect({ name, values: Array.from(tensor.data) }).toEqual({ name, values: want.tensors[name].values });
  }
}

describe("small fixtures match torch.load", () => {
  test.each([
    ["small-legacy.th", "legacy"],
    ["small-zip.pth", "zip"],
    ["small-zip-protocol4.pth", "zip"],
    ["small-zip-deflated.pth", "zip"],
    ["bare-state-dict.th", "legacy"],
  ])("%s (%s)", async (name, format) => {
    const checkpoint = await loadTorchCheckpoint(join(FIXTURES, name));
    expect(checkpoint.format).toBe(format);
    expectMatchesTorch(checkpoint, expected.small[name]);
  });

  test("reads a plain Uint8Array as well as a Node Buffer", () => {
    expectMatchesTorch(readTorchCheckpoint(fixture("small-legacy.th")), expected.small["small-legacy.th"]);
    expectMatchesTorch(readTorchCheckpoint(fixture("small-zip.pth")), expected.small["small-zip.pth"]);
  });

  test("tensors cut from one storage do not share memory", () => {
    const { stateDict } = readTorchCheckpoint(fixture("small-zip.pth"));
    const a = stateDict.get("shared_a")!.data;
    const b = stateDict.get("shared_b")!.data;
    const before = Array.from(b);
    a.fill(99);
    expect(Array.from(b)).toEqual(before);
  });
});

describe("clear errors for files we cannot read", () => {
  test("a wrong legacy magic number", () => {
    const bytes = fixture("small-legacy.th");
    bytes[4] ^= 0xff; // inside the LONG1 magic number that opens the file
    expect(() => readTorchCheckpoint(bytes)).toThrow(/magic number 0x1950a86a20f9469cfc6c not found.*not a supported PyTorch checkpoint/);
  });

  test("bytes that are neither format", () => {
    expect(() => readTorchCheckpoint(new TextEncoder().encode("hello, world"))).toThrow(
      /neither a zip archive nor a legacy torch.save pickle/,
    );
  });

  test("a truncated zip", () => {
    const bytes = fixture("small-zip.pth");
    expect(() => readTorchCheckpoint(bytes.subarray(0, bytes.length - 200))).toThrow(/end-of-central-directory/);
  });

  test("a truncated legacy file", () => {
    const bytes = fixture("small-legacy.th");
    expect(() => readTorchCheckpoint(bytes.subarray(0, bytes.length - 10))).toThrow(/truncated/);
  });

  test("load names the path", async () => {
    const path = join(FIXTURES, "expected.json");
    await expect(loadTorchCheckpoint(path)).rejects.toThrow(path);
  });
});


/** The CIFAR ResNet20 layout: three stages of three basic blocks at 16, 32 and 64 channels. */
function resnet20Shapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const bn = (prefix: string, c: number) => {
    for (const part of ["weight", "bias", "running_mean", "running_var"]) shapes.set(`${prefix}.${part}`, [c]);
  };
  shapes.set("conv1.weight", [16, 3, 3, 3]);
  bn("bn1", 16);
  [16, 32, 64].forEach((channels, stage) => {
    for (let block = 0; block < 3; block++) {
      const prefix = `layer${stage + 1}.${block}`;
      const inChannels = block === 0 && stage > 0 ? channels / 2 : channels;
      shapes.set(`${prefix}.conv1.weight`, [channels, inChannels, 3, 3]);
      bn(`${prefix}.bn1`, channels);
      shapes.set(`${prefix}.conv2.weight`, [channels, channels, 3, 3]);
      bn(`${prefix}.bn2`, channels);
    }
  });
  shapes.set("linear.weight", [10, 64]);
  shapes.set("linear.bias", [10]);
  return shapes;
}

describe("pretrained CIFAR ResNets from the shared mirror", () => {
  test("the mirror is there (set DECOMP_MIRROR to the folder holding pytorch_resnet_cifar10/)", () => {
    expect({ MIRROR, present: existsSync(MIRROR) }).toEqual({ MIRROR, present: true });
  });

  test("resnet20: keys, shapes, best_prec1, and values cross-checked with torch", async () => {
    const file = "resnet20-12fca82f.th";
    const want = expected.resnet[file];
    const checkpoint = await loadTorchCheckpoint(join(MIRROR, file));
    expect(checkpoint.format).toBe("legacy");

    const shapes = resnet20Shapes();
    expect(new Set(checkpoint.stateDict.keys())).toEqual(new Set(shapes.keys()));
    for (const [name, tensor] of checkpoint.stateDict) {
      expect({ name, shape: tensor.shape }).toEqual({ name, shape: shapes.get(name) });
      expect(name.startsWith("module.")).toBe(false);
    }

    // The published test error is 8.27%; the checkpoint itself records 91.78.
    expect(checkpoint.meta.best_prec1).toBe(want.meta.best_prec1);
    expect(Math.abs((checkpoint.meta.best_prec1 as number) - 91.73)).toBeLessThan(0.1);

    for (const [name, entry] of Object.entries(want.tensors!)) {
      const data = checkpoint.stateDict.get(name)!.data;
      let sum = 0;
      for (const x of data) sum += x;
      expect({ name, sum }).toEqual({ name, sum: expect.closeTo(entry.sum, 9) });
      for (const [index, value] of entry.spot) expect({ name, index, value: data[index] }).toEqual({ name, index, value });
    }
  });

  test.each(Object.keys(expected.resnet))("%s: totals match torch", async (file) => {
    const want = expected.resnet[file];
    const checkpoint = await loadTorchCheckpoint(join(MIRROR, file));
    expect(checkpoint.meta).toEqual(want.meta);
    expect(checkpoint.stateDict.size).toBe(want.count);
    let elements = 0;
    let sum = 0;
    let absSum = 0;
    for (const { data } of checkpoint.stateDict.values()) {
      elements += data.length;
      for (const x of data) {
        sum += x;
        absSum += Math.abs(x);
      }
    }
    expect(elements).toBe(want.elements);
    expect(sum).toBeCloseTo(want.sum, 6);
    expect(absSum / want.abs_sum).toBeCloseTo(1, 12);
  });
});
