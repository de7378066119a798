/**
 * The MAT-file reader on files scipy writes (compressed and not; the devkit's synsets layout from
 * scripts/make-devkit.py) and on broken input, which fails with the file's name and what is wrong.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type MatStruct, readMat } from "../../src/data/matlab";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-matlab-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const WNIDS = ["n01440764", "n01443537", "n02102040"];

test.each([true, false])("reads the devkit's synsets struct array (compressed: %s)", (compressed) => {
  const out = path.join(scratch, `dk-${compressed}`);
  execFileSync("/usr/bin/python3", ["scripts/make-devkit.py", out, JSON.stringify(WNIDS), "4", compressed ? "1" : "0", "1"]);
  const file = path.join(out, "ILSVRC2012_devkit_t12", "data", "meta.mat");
  const synsets = readMat(fs.readFileSync(file), file).get("synsets") as MatStruct[];
  expect(synsets).toHaveLength(5);
  expect(synsets.map((s) => s.ILSVRC2012_ID)).toEqual([[1], [2], [3], [4], [5]]);
  expect(synsets.slice(0, 3).map((s) => s.WNID).sort()).toEqual(WNIDS);
  expect(synsets.map((s) => s.num_children)).toEqual([[0], [0], [0], [2], [2]]);
  expect(synsets[3].children).toEqual([1, 2]);
  expect(synsets[0].children).toEqual([]);
  expect(synsets[0].words).toBe(`words of ${synsets[0].WNID}`);
  expect(synsets[0].num_train_images).toEqual([1300]);

  const truncated = fs.readFileSync(file).subarray(0, 200);
  expect(() => readMat(truncated, "cut.mat")).toThrow(/^cut\.mat: truncated MAT-file/);
});

test("refuses what is not a level-5 little-endian MAT-file", () => {
  expect(() => readMat(new Uint8Array(10), "tiny.mat")).toThrow("tiny.mat is not a MAT-file (shorter than its 128-byte header)");
  const hdf5 = new Uint8Array(256);
  hdf5.set(new TextEncoder().encode("MATLAB 7.3 MAT-file"), 0);
  expect(() => readMat(hdf5, "v73.mat")).toThrow("v73.mat is not a level-5 MAT-file (its header does not start with 'MATLAB 5.0'; v7.3 files are HDF5)");
  const big = new Uint8Array(128);
  big.set(new TextEncoder().encode("MATLAB 5.0 MAT-file"), 0);
  big.set([0x4d, 0x49], 126);
  expect(() => readMat(big, "be.mat")).toThrow("be.mat is a big-endian MAT-file, which is not supported");
});
