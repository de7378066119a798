/**
 * ImageNet on disk: the layout scan against torchvision's ImageFolder on a synthetic ILSVRC-layout tree (JPEGs
 * this test writes), the flat validation folder with Kaggle's solution file or the official devkit (against
 * torchvision's own devkit parsing), layout errors; decoding and both
 * preprocessing recipes against Pillow and torchvision on real photographs from Debian's darknet package.
 * Oracles run at test time with Debian's python3-torchvision (installed by `npm test`'s setup).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodeImage } from "../../src/data/decode";
import { scanImageNet } from "../../src/data/imagenet";
import { preprocessImage, type Recipe } from "../../src/data/preprocess";
import { makeTree, WNIDS } from "./synthetic-imagenet";

const PYTHON = "/usr/bin/python3";
const SCRIPTS = path.join(__dirname, "..", "..", "scripts");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-imagenet-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("ImageNet layouts", () => {
  const root = path.join(scratch, "tree");
  beforeAll(() => makeTree(root));

  it("orders classes and training files exactly as torchvision's ImageFolder", () => {
    const tree = scanImageNet(root);
    const reference = JSON.parse(execFileSync(PYTHON, [path.join(SCRIPTS, "imagefolder-order.py"), path.join(root, "train")], { encoding: "utf8" }));
    expect(tree.classes).toEqual(reference.classes);
    expect(tree.splits.train!.files.map((f, i) => [f, tree.splits.train!.labels[i]])).toEqual(reference.samples);
    expect(tree.splits.train!.files).toHaveLength(3 + 4 + 5 + 6 + 1);
  });

  it("labels a flat val/ from LOC_val_solution.csv by each row's first wnid, and sorted class folders the same way", () => {
    const tree = scanImageNet(root);
    const val = tree.splits.val!;
    expect(val.labelSource).toBe(path.join(root, "LOC_val_solution.csv"));
    expect(val.files.map((f) => path.basename(f))).toEqual(Array.from({ length: 9 }, (_, i) => `ILSVRC2012_val_${String(i + 1).padStart(8, "0")}.JPEG`));
    expect(Array.from(val.labels)).toEqual(Array.from({ length: 9 }, (_, i) => ((i + 1) * 3) % 4));

    // The same images sorted into class folders give the same labels (in ImageFolder's order).
    const sorted = path.join(scratch, "sorted");
    fs.mkdirSync(path.join(sorted, "val"), { recursive: true });
    fs.cpSync(path.join(root, "train"), path.join(sorted, "train"), { recursive: true });
    val.files.forEach((f, i) => {
      const dir = path.join(sorted, "val", WNIDS[val.labels[i]]);
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(f, path.join(dir, path.basename(f)));
    });
    const again = scanImageNet(sorted).splits.val!;
    const reference = JSON.parse(execFileSync(PYTHON, [path.join(SCRIPTS, "imagefolder-order.py"), path.join(sorted, "val")], { encoding: "utf8" }));
    expect(again.files.map((f, i) => [f, again.labels[i]])).toEqual(reference.samples);
    expect(again.labelSource).toBe("class folders");
  });

  // The devkit numbers classes by ILSVRC2012_ID, not in the wnids' order: meta.mat maps one to the other.
  it.each([true, false])("labels a flat val/ from the devkit as torchvision reads it (meta.mat compressed: %s; folder, then .tar.gz beside the root)", (compressed) => {
    const dk = path.join(scratch, `devkit-${compressed}`);
    fs.mkdirSync(dk);
    fs.cpSync(path.join(root, "train"), path.join(dk, "train"), { recursive: true });
    fs.cpSync(path.join(root, "val"), path.join(dk, "val"), { recursive: true });
    const wnids = scanImageNet(root).classes;
    const expected = JSON.parse(execFileSync(PYTHON, [path.join(SCRIPTS, "make-devkit.py"), dk, JSON.stringify(wnids), "9", compressed ? "1" : "0", "3"], { encoding: "utf8" })) as string[];
    const archive = path.join(dk, "ILSVRC2012_devkit_t12.tar.gz");
    const outside = path.join(scratch, `beside-${compressed}.tar.gz`);
    fs.renameSync(archive, outside);
    const fromFolder = scanImageNet(dk);
    expect(fromFolder.splits.val!.labelSource).toBe(path.join(dk, "ILSVRC2012_devkit_t12", "data"));
    expect(Array.from(fromFolder.splits.val!.labels, (c) => fromFolder.classes[c])).toEqual(expected);
    // Only the archive, one folder up (where torchvision's ImageNet keeps it beside the split folders' parent).
    fs.rmSync(path.join(dk, "ILSVRC2012_devkit_t12"), { recursive: true });
    const nested = path.join(dk, "CLS-LOC");
    fs.mkdirSync(nested);
    for (const split of ["train", "val"]) fs.renameSync(path.join(dk, split), path.join(nested, split));
    fs.renameSync(outside, archive);
    const fromArchive = scanImageNet(nested);
    expect(fromArchive.splits.val!.labelSource).toBe(archive);
    expect(Array.from(fromArchive.splits.val!.labels, (c) => fromArchive.classes[c])).toEqual(expected);
    // A ground truth shorter than the images fails naming the image.
    fs.writeFileSync(path.join(nested, "val", "ILSVRC2012_val_00000050.JPEG"), fs.readFileSync(fromArchive.splits.val!.files[0]));
    expect(() => scanImageNet(nested)).toThrow("ILSVRC2012_val_00000050.JPEG: no line of ILSVRC2012_validation_ground_truth.txt (9 lines) belongs to it");
  });

  it("fails on layouts it cannot label, saying what to do", () => {
    const bad = path.join(scratch, "bad");
    fs.mkdirSync(path.join(bad, "val"), { recursive: true });
    fs.copyFileSync(path.join(root, "val", "ILSVRC2012_val_00000001.JPEG"), path.join(bad, "val", "ILSVRC2012_val_00000001.JPEG"));
    expect(() => scanImageNet(bad)).toThrow(`${path.join(bad, "val")} is flat (no class folders) and neither LOC_val_solution.csv nor the devkit (ILSVRC2012_devkit_t12/ or ILSVRC2012_devkit_t12.tar.gz) was found`);
    expect(() => scanImageNet(path.join(scratch, "absent"))).toThrow("does not exist; pass the folder that holds train/ and val/");
    fs.mkdirSync(path.join(bad, "train", "cats"), { recursive: true });
    expect(() => scanImageNet(bad)).toThrow(`${path.join(bad, "train", "cats")}: ImageNet class folders are wnids such as n01440764`);
    fs.rmSync(path.join(bad, "train", "cats"), { recursive: true });
    fs.mkdirSync(path.join(bad, "train", WNIDS[0]), { recursive: true });
    fs.writeFileSync(path.join(bad, "LOC_val_solution.csv"), `ImageId,PredictionString\nILSVRC2012_val_00000001,${WNIDS[2]} 1 2 3 4\n`);
    expect(() => scanImageNet(bad)).toThrow(`labels ILSVRC2012_val_00000001 as ${WNIDS[2]}, which is not one of the 1 training classes`);
  });
});

describe("decoding and preprocessing real photographs, against Pillow and torchvision", () => {
  let photos: string[];
  beforeAll(() => {
    const dir = execFileSync("bash", [path.join(SCRIPTS, "debian-photos.sh")], { encoding: "utf8" }).trim();
    photos = fs.readdirSync(dir).filter((f) => f.endsWith(".jpg")).sort().map((f) => path.join(dir, f));
    expect(photos.length).toBeGreaterThanOrEqual(5);
  });

  const reference = (recipe: Recipe | { kind: "decode" }) => {
    const out = path.join(scratch, `ref-${Math.random().toString(36).slice(2)}.u8`);
    const shapes = JSON.parse(execFileSync(PYTHON, [path.join(SCRIPTS, "pil-reference.py"), out, JSON.stringify(recipe), ...photos], { encoding: "utf8" })) as number[][];
    const bytes = fs.readFileSync(out);
    let offset = 0;
    return shapes.map((s) => {
      const n = s[0] * s[1] * s[2];
      const view = bytes.subarray(offset, offset + n);
      offset += n;
      return { shape: s, pixels: view };
    });
  };

  const worst = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

  it("decodes every photograph to Pillow's pixels exactly", async () => {
    const refs = reference({ kind: "decode" });
    for (const [i, file] of photos.entries()) {
      const img = await decodeImage(file);
      expect([file, img.height, img.width, 3]).toEqual([file, ...refs[i].shape]);
      expect([file, worst(img.pixels, refs[i].pixels)]).toEqual([file, 0]);
    }
  });

  it.each([
    ["torchvision's ResNet preset (resize 256, crop 224, bilinear)", { kind: "resize-crop", resize: 256, crop: 224, interpolation: "bilinear" }],
    ["EfficientNet-B3's preset (resize 320, crop 300, bicubic)", { kind: "resize-crop", resize: 320, crop: 300, interpolation: "bicubic" }],
    ["the paper authors' squash (224 x 224, bilinear)", { kind: "squash", size: 224, interpolation: "bilinear" }],
  ] as [string, Recipe][])("%s: within 1 grey level of torchvision on every pixel", async (_name, recipe) => {
    const refs = reference(recipe);
    for (const [i, file] of photos.entries()) {
      const img = await decodeImage(file);
      const ours = preprocessImage(img.pixels, img.height, img.width, recipe);
      expect(ours.length).toBe(refs[i].pixels.length);
      expect({ file, within1: worst(ours, refs[i].pixels) <= 1 }).toEqual({ file, within1: true });
    }
  });
});
