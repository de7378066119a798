import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodeBinaryArchive, parseBinaryBatches } from "../../src/data/cifar-binary";
import { readTarGz } from "../../src/data/tar";

/** A record as the official format stores it: label, then the R plane, G plane, B plane, each 32x32 row-major. */
function record(label: number, value: (c: number, y: number, x: number) => number): Buffer {
  const rec = Buffer.alloc(3073);
  rec[0] = label;
  for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) rec[1 + c * 1024 + y * 32 + x] = value(c, y, x);
  return rec;
}
const pattern = (n: number) => (c: number, y: number, x: number) => (n * 50 + c * 80 + y * 3 + x) % 256;

describe("CIFAR-10 binary format", () => {
  it("turns CHW records into NHWC pixels, keeping labels and order", () => {
    const batch = Buffer.concat([record(3, pattern(0)), record(9, pattern(1))]);
    const { pixels, labels } = parseBinaryBatches([batch, record(0, pattern(2))]);
    expect(Array.from(labels)).toEqual([3, 9, 0]);
    for (let n = 0; n < 3; n++) {
      for (const [y, x] of [[0, 0], [0, 31], [5, 7], [31, 31]]) {
        for (let c = 0; c < 3; c++) expect(pixels[n * 3072 + (y * 32 + x) * 3 + c]).toBe(pattern(n)(c, y, x));
      }
    }
  });

  it("rejects a batch that is not whole records", () => {
    expect(() => parseBinaryBatches([Buffer.alloc(3073 * 2 + 1)])).toThrow("CIFAR-10 batch of 6147 bytes is not a whole number of 3073-byte records");
  });

  it("decodes the train and test splits of an archive laid out like cifar-10-binary.tar.gz", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-cifarbin-"));
    try {
      const root = path.join(dir, "cifar-10-batches-bin");
      fs.mkdirSync(root);
      for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(root, `data_batch_${b}.bin`), Buffer.concat([record(b, pattern(b)), record(b + 1, pattern(b + 10))]));
      fs.writeFileSync(path.join(root, "test_batch.bin"), record(7, pattern(99)));
      fs.writeFileSync(path.join(root, "batches.meta.txt"), "airplane\n");
      const tgz = path.join(dir, "cifar.tar.gz");
      execFileSync("tar", ["-czf", tgz, "-C", dir, "cifar-10-batches-bin"]);
      const entries = await readTarGz(fs.readFileSync(tgz));

      const train = decodeBinaryArchive(entries, "train");
      expect(train.count).toBe(10);
      expect(Array.from(train.labels)).toEqual([1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
      expect(train.pixels[9 * 3072 + (4 * 32 + 2) * 3 + 1]).toBe(pattern(15)(1, 4, 2));

      const test = decodeBinaryArchive(entries, "test");
      expect(test.count).toBe(1);
      expect(test.labels[0]).toBe(7);
      expect(test.pixels[(31 * 32 + 31) * 3 + 2]).toBe(pattern(99)(2, 31, 31));
      expect(test.classNames[7]).toBe("horse");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
