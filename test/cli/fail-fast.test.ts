/**
 * Bad input fails before any work: each case runs against an empty cache and an empty mirror, so a command
 * that started loading a checkpoint or a split would write into the cache or fail differently. The error must
 * name the problem, and no work may have started: the cache untouched, no ONNX Runtime session opened, no
 * process, download or decoding worker started.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeImageSet } from "../../src/data/image-set";
import { loadExperimentData } from "../../src/experiments/setup";
import { augmentSeedSpread } from "../../src/experiments/seed-spread";
import { getFeatures } from "../../src/features";
import { initialGates } from "../../src/method";
import { fineTune, trainCsg } from "../../src/training";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import * as ort from "onnxruntime-node";
import { fetchArtifact } from "../../src/artifacts";
import { ImagePool } from "../../src/data/image-pool";
import { torchAvailable } from "../../src/bench/torch-bench";
import { createOnnxEngine } from "../../src/models/onnx-engine";
import { randomStateDict } from "../models/reference-forward";
import { runCli } from "./run-cli";

let scratch: string;
let cache: string;
const saved = { cache: process.env.DECOMP_CACHE, mirror: process.env.DECOMP_MIRROR };

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-failfast-"));
  cache = path.join(scratch, "cache");
  fs.mkdirSync(cache);
  fs.mkdirSync(path.join(scratch, "mirror"));
  process.env.DECOMP_CACHE = cache;
  process.env.DECOMP_MIRROR = path.join(scratch, "mirror");
  const write = (name: string, text: string) => fs.writeFileSync(path.join(scratch, name), text);
  write("broken.json", "{ \"0\": [1, 2 ");
  write("wide.json", JSON.stringify(Object.fromEntries(Array.from({ length: 10 }, (_, c) => [String(c), c === 4 ? [3, 64] : [1, 2]]))));
  write("short.json", JSON.stringify(Object.fromEntries(Array.from({ length: 9 }, (_, c) => [String(c), [1, 2]]))));
  write("named.json", JSON.stringify({ airplane: [1], kitten: [2] }));
});
afterAll(() => {
  process.env.DECOMP_CACHE = saved.cache;
  process.env.DECOMP_MIRROR = saved.mirror;
  if (saved.cache === undefined) delete process.env.DECOMP_CACHE;
  if (saved.mirror === undefined) delete process.env.DECOMP_MIRROR;
  fs.rmSync(scratch, { recursive: true, force: true });
});

const at = (name: string) => path.join(scratch, name);

// The modules themselves (not TypeScript's read-only namespace copies), whose functions the library looks up at each call.
const childProcess: typeof import("node:child_process") = require("node:child_process");
const workerThreads: typeof import("node:worker_threads") = require("node:worker_threads");

/** Runs `call` and counts the work it started: ONNX Runtime sessions, child processes, downloads, worker threads. */
async function workStartedBy(call: () => Promise<unknown>): Promise<{ sessions: number; processes: number; downloads: number; workers: number }> {
  const sessions = jest.spyOn(ort.InferenceSession, "create");
  // Every asynchronous child process (spawn, execFile, exec, fork, however a module holds them) starts through
  // ChildProcess.prototype.spawn; the synchronous ones through these three.
  const processes = [
    // spawn is on the prototype at run time, not in Node's typings of ChildProcess.
    jest.spyOn(childProcess.ChildProcess.prototype as unknown as { spawn: (options: object) => void }, "spawn"),
    ...(["execFileSync", "spawnSync", "execSync"] as const).map((name) => jest.spyOn(childProcess, name)),
  ];
  const downloads = jest.spyOn(globalThis, "fetch");
  // A class is constructed with new, which a spy cannot stand in for: a subclass counts instead.
  const RealWorker = workerThreads.Worker;
  let workers = 0;
  workerThreads.Worker = class extends RealWorker {
    constructor(...args: ConstructorParameters<typeof RealWorker>) {
      super(...args);
      workers++;
    }
  };
  try {
    await call();
    return {
      sessions: sessions.mock.calls.length,
      processes: processes.reduce((n, spy) => n + spy.mock.calls.length, 0),
      downloads: downloads.mock.calls.length,
      workers,
    };
  } finally {
    for (const spy of [sessions, ...processes, downloads]) spy.mockRestore();
    workerThreads.Worker = RealWorker;
  }
}
const NO_WORK = { sessions: 0, processes: 0, downloads: 0, workers: 0 };

it("sees work when the library starts it (the spies sit on the objects the library calls)", async () => {
  const spec = cifarResNetSpec(8);
  const work = await workStartedBy(async () => {
    const engine = await createOnnxEngine(spec, randomStateDict(spec, 1));
    engine.dispose();
    await new ImagePool({ kind: "squash", size: 8, interpolation: "bilinear" }, 1).close();
    // The download is answered here (this test never reaches the network); counting the call is the point.
    jest.mocked(globalThis.fetch).mockRejectedValueOnce(new Error("offline"));
    await fetchArtifact("resnet20", { cacheDir: path.join(scratch, "control-cache"), mirrorDir: null, torchHubDir: null }).catch(() => undefined);
    await torchAvailable(path.join(scratch, "no-python"));
  });
  expect(work).toEqual({ sessions: 1, processes: 1, downloads: 1, workers: 1 });
});

describe("the CLI refuses bad input before any work", () => {
  const cases: [string, () => string[], RegExp][] = [
    ["a missing index map", () => ["eval", "--indices", at("absent.json")], /--indices .*absent\.json: cannot read it \(ENOENT\)/],
    ["an index map that is not JSON", () => ["eval", "--indices", at("broken.json")], /--indices .*broken\.json: index map is not valid JSON/],
    ["an index past the feature width", () => ["eval", "--indices", at("wide.json")], /--indices .*wide\.json: .*64/],
    ["an index map missing a class", () => ["eval", "--indices", at("short.json")], /index map has no entry for class 9; add "9"/],
    ["an index map with an unknown class name", () => ["eval", "--indices", at("named.json")], /index map key "kitten" is not a class/],
    ["an unknown model", () => ["eval", "--model", "resnet99"], /unknown model 'resnet99'/],
    ["an unknown normalisation", () => ["select", "--norm", "imagenet"], /Unknown normalisation "imagenet"/],
    ["a zero image limit", () => ["eval", "--limit", "0"], /--limit must be an integer in 1\.\.Infinity, got "0"/],
    ["a batch size out of range", () => ["eval", "--batch-size", "100000"], /--batch-size must be an integer in 1\.\.4096/],
    ["k1 = 0", () => ["select", "--k1", "0"], /k1 must be an integer in 1\.\.64/],
    ["a negative augmentation seed", () => ["select", "--augment=-1"], /--augment must be an integer in 0\.\.Infinity/],
    ["an output folder that does not exist", () => ["select", "--out", at("no/such/dir/map.json")], /--out .*map\.json: the folder .*no\/such\/dir does not exist/],
    ["an output path that is a folder", () => ["select", "--out", scratch], /--out .* is a folder; give a file name/],
    ["an unknown artifact among good ones", () => ["fetch", "resnet20", "resnet2O"], /Unknown artifact id "resnet2O"/],
    ["an unknown bench model", () => ["bench", "--models", "resnet20,resnet99", "--python", "none"], /unknown model 'resnet99'/],
    ["an unknown PyTorch mode", () => ["bench", "--torch-modes", "jit"], /torchModes: 'jit' is not one of eager, frozen/],
    ["a python that does not exist", () => ["bench", "--python", at("python9")], /--python .*python9 does not exist/],
    ["zero bench rounds", () => ["bench", "--rounds", "0"], /--rounds must be an integer in 1\.\.Infinity/],
    ["a fine-tune epoch past the training set", () => ["bench", "--finetune-epoch", "60000"], /--finetune-epoch must be an integer in 0\.\.50000/],
    ["a CSG epoch past the training set", () => ["bench", "--csg-epoch", "50001"], /--csg-epoch must be an integer in 0\.\.50000/],
    ["a CSG density of 0", () => ["csg", "--density", "0"], /density must lie in \(0, 1\]/],
    ["a CSG density above 1", () => ["csg", "--density", "1.5"], /density must lie in \(0, 1\]/],
    ["a negative CSG lambda", () => ["csg", "--lambda=-0.001"], /lambda must be a finite number >= 0/],
    ["a CSG lambda that is not a number", () => ["csg", "--lambda", "lots"], /--lambda must be a number, got "lots"/],
    ["a CSG phase outside the period", () => ["csg", "--period", "3", "--phase", "3"], /csgPhase must be an integer from 0 to 2/],
    ["an unknown CSG start", () => ["csg", "--from", "imagenet"], /--from must be pretrained or scratch, got "imagenet"/],
    ["a CSG output path that is a file", () => ["csg", "--out", at("broken.json")], /--out .*broken\.json is a file; give a folder/],
    ["a CSG learning rate of 0", () => ["csg", "--csg-lr", "0"], /csgLr must be a positive number, got 0/],
    ["an unknown CSG model", () => ["csg", "--model", "resnet19"], /unknown model 'resnet19'/],
    ["an unknown selection rule", () => ["select", "--rule", "lasso"], /unknown selection rule 'lasso'; known rules: algorithm1, random/],
    ["the csg rule without gates", () => ["select", "--rule", "csg"], /--rule csg needs --gates FILE/],
    ["a feature rule on an ImageNet tree", () => ["select", "--rule", "weight", "--data", `imagenet:${scratch}`], /--rule weight reads the training images' features, which an ImageNet or image-folder pass keeps only as top ranks; add --per-class N/],
    ["a refit on an image folder", () => ["select", "--refit", "--data", `folder:${scratch}`], /--refit fits on the training images' features, .* add --per-class N/],
    ["a per-class sample of CIFAR-10", () => ["select", "--per-class", "5"], /--per-class is for ImageNet and image folders/],
  ];

  it.each(cases)("%s", async (_, argv, message) => {
    let result = { code: 0, stderr: "" };
    const work = await workStartedBy(async () => {
      const { code, stderr } = await runCli(...argv());
      result = { code, stderr };
    });
    expect(result).toEqual({ code: 1, stderr: expect.stringMatching(message) });
    expect(work).toEqual(NO_WORK);
    expect(fs.readdirSync(cache)).toEqual([]);
  });
});

describe("library entry points refuse bad input before any work", () => {
  const spec = cifarResNetSpec(8);
  const images = makeImageSet(new Uint8Array(2 * 3072), Uint8Array.from([0, 1]));
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ["getFeatures, unknown model", () => getFeatures({ model: "vgg16", split: "test" }), /unknown model 'vgg16'/],
    ["getFeatures, unknown split", () => getFeatures({ model: "resnet20", split: "val" as "test" }), /Unknown CIFAR-10 split "val"/],
    ["getFeatures, unknown normalisation", () => getFeatures({ model: "resnet20", split: "test", norm: "imagenet" }), /Unknown normalisation "imagenet"/],
    ["getFeatures, fractional limit", () => getFeatures({ model: "resnet20", split: "test", limit: 2.5 }), /limit must be a positive integer, got 2\.5/],
    ["getFeatures, negative augmentation seed", () => getFeatures({ model: "resnet20", split: "train", augmentSeed: -3 }), /augmentSeed must be a non-negative integer/],
    ["loadExperimentData, zero test images", () => loadExperimentData({ model: "resnet20", norm: "cifar", trainAugmentSeed: 0, trainImages: 10, testImages: 0 }), /the number of test images must be a positive integer, got 0/],
    ["augmentSeedSpread, no seeds", () => augmentSeedSpread({ model: "resnet20", norm: "cifar", trainAugmentSeed: 0, trainImages: 10, testImages: 10 }, [], []), /needs at least one seed/],
    ["trainCsg, a gate matrix of the wrong shape", () => trainCsg({ spec, stateDict: new Map(), train: images, test: images, norm: "cifar", gates: initialGates(10, 16) }), /the gate matrix is 10 x 16 but the model has 10 classes and 64 channels/],
    ["trainCsg, a label outside the classes", () => trainCsg({ spec, stateDict: new Map(), train: makeImageSet(new Uint8Array(2 * 3072), Uint8Array.from([0, 10])), test: images, norm: "cifar" }), /train image 1 has label 10, outside the model's classes 0\.\.9/],
    ["fineTune, negative learning rate", () => fineTune({ spec, stateDict: new Map(), sets: [], train: images, test: images, norm: "cifar", lr: -1 }), /lr/],
  ];

  it.each(cases)("%s", async (_, call, message) => {
    const work = await workStartedBy(() => expect(call()).rejects.toThrow(message));
    expect(work).toEqual(NO_WORK);
    expect(fs.readdirSync(cache)).toEqual([]);
  });
});
