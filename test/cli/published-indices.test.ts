/**
 * A published index map in the authors' layout (resnet50_imagenet_indices.json: 1000 classes keyed "0".."999",
 * 50 feature indices each, Python's json.dumps spacing) evaluates with `decomp eval --indices` on an ImageNet
 * tree, and gives PyTorch's A_f and A_d: a 1000-class tree (one training image per wnid folder), 8 flat
 * validation photographs labelled so that both accuracies are neither 0 nor 1, and a seeded random torchvision
 * ResNet50 evaluated by scripts/decomposed-oracle.py with the same map.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeSyntheticJpeg } from "../../src/bench/pipeline-bench";
import { mulberry32 } from "../../src/data/prng";
import { runCli } from "./run-cli";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-published-map-"));
const saved = process.env.DECOMP_CACHE;
afterAll(() => {
  if (saved === undefined) delete process.env.DECOMP_CACHE;
  else process.env.DECOMP_CACHE = saved;
  fs.rmSync(scratch, { recursive: true, force: true });
});

const CLASSES = 1000;
const VAL = 8;

test("the authors' ResNet50 map layout evaluates with decomp eval --indices, equal to PyTorch", async () => {
  const tree = path.join(scratch, "tree");
  const wnids = Array.from({ length: CLASSES }, (_, c) => `n${String(1000000 + 37 * c).padStart(8, "0")}`);
  const seedJpeg = path.join(scratch, "seed.JPEG");
  await writeSyntheticJpeg(seedJpeg, 1, 40, 30);
  for (const w of wnids) {
    fs.mkdirSync(path.join(tree, "train", w), { recursive: true });
    fs.linkSync(seedJpeg, path.join(tree, "train", w, `${w}_1.JPEG`));
  }
  const ids = Array.from({ length: VAL }, (_, i) => `ILSVRC2012_val_${String(i + 1).padStart(8, "0")}`);
  const files = ids.map((id) => path.join(tree, "val", `${id}.JPEG`));
  for (const [i, f] of files.entries()) await writeSyntheticJpeg(f, 50 + i, 500 - 20 * i, 375 + 11 * i);

  // A map in the published layout: distinct random indices per class, json.dumps' ", " and ": " separators.
  const rand = mulberry32(7);
  const sets = Array.from({ length: CLASSES }, () => {
    const s = new Set<number>();
    while (s.size < 50) s.add(Math.floor(rand() * 2048));
    return [...s];
  });
  const map = path.join(scratch, "resnet50_imagenet_indices.json");
  fs.writeFileSync(map, `{${sets.map((s, c) => `"${c}": [${s.join(", ")}]`).join(", ")}}`);

  const weights = path.join(scratch, "resnet50-1000.pth");
  execFileSync("/usr/bin/python3", ["-c", `import sys; sys.path.insert(0, "scripts")
import torch, torchvision
from torchvision_oracle import randomise
m = torchvision.models.resnet50(weights=None)
randomise(m, torch.Generator().manual_seed(5), gain=1.0)
torch.save(m.state_dict(), ${JSON.stringify(weights)})`]);
  const oracle = JSON.parse(execFileSync("/usr/bin/python3", ["scripts/decomposed-oracle.py", weights, map, ...files], { encoding: "utf8" })) as { full: number[]; decomposed: number[] };
  // Images 0-3 labelled with PyTorch's decomposed prediction, 4-7 with its full-layer one.
  const labels = oracle.decomposed.slice(0, 4).concat(oracle.full.slice(4));
  const rows = ["ImageId,PredictionString", ...ids.map((id, i) => `${id},${wnids[labels[i]]} 1 2 3 4`)];
  fs.writeFileSync(path.join(tree, "LOC_val_solution.csv"), rows.join("\n") + "\n");
  const count = (preds: number[]) => preds.filter((p, i) => p === labels[i]).length;
  const expected = { full: (100 * count(oracle.full)) / VAL, decomposed: (100 * count(oracle.decomposed)) / VAL };
  expect(expected.full).toBeGreaterThan(0);
  expect(expected.decomposed).toBeGreaterThan(0);

  process.env.DECOMP_CACHE = path.join(scratch, "cache");
  const r = await runCli("eval", "--model", "resnet50", "--weights", weights, "--data", `imagenet:${tree}`, "--preprocess", "paper", "--indices", map, "--json");
  expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
  const out = JSON.parse(r.stdout);
  expect([out.classes, out.images, out.preprocessing]).toEqual([CLASSES, VAL, "squash224-bilinear"]);
  expect([out.fullLayerAccuracy, out.decomposedAccuracy]).toEqual([expected.full, expected.decomposed]);
  expect(out.macs).toEqual({ full: CLASSES * 2048, decomposed: CLASSES * 50 });
}, 300_000);
