/**
 * Where the ONNX Runtime training step of ResNet20 spends its time: ONNX Runtime's own per-node profile of
 * the generated training graph, summed per operator type and per (operator, input shapes).
 *   node -r ./scripts/register-ts.js scripts/profile-train-step.ts [batch, default 64] [plain]
 * "plain" exports the graph without the blocked NCHWc convolutions, for comparison. Inputs are synthetic;
 * the first runs (allocation, kernel selection) are left out of the averages. Not a test: a measurement.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { syntheticImages } from "../src/bench/throughput";
import { nchwcBlockSize } from "../src/models/nchwc";
import { loadPretrained } from "../src/models/pretrained";
import { exportTrainingGraph, trainableNames } from "../src/training";
import { TRAIN_IO, trainingParamShapes } from "../src/training/onnx-train-graph";
import { trainSessionOptions } from "../src/training/onnx-train-step";

const WARMUP = 4;
const TIMED = 8;

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] };
}

async function main(): Promise<void> {
  const batch = Number(process.argv[2] ?? 64);
  const plain = process.argv[3] === "plain";
  const { spec, stateDict } = await loadPretrained("resnet20");
  const nchwcBlock = plain ? null : await nchwcBlockSize();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-profile-"));
  const session = await ort.InferenceSession.create(exportTrainingGraph(spec, { nchwcBlock }), {
    ...trainSessionOptions(os.availableParallelism(), false),
    enableProfiling: true,
    profileFilePrefix: path.join(dir, "train-step"),
  });
  const onehot = new Float32Array(batch * spec.classes);
  for (let i = 0; i < batch; i++) onehot[i * spec.classes + (i % spec.classes)] = 1;
  const feeds: Record<string, ort.Tensor> = {
    [TRAIN_IO.images]: new ort.Tensor("float32", syntheticImages(batch, 1), [batch, 32, 32, 3]),
    [TRAIN_IO.onehot]: new ort.Tensor("float32", onehot, [batch, spec.classes]),
    [TRAIN_IO.mask]: new ort.Tensor("float32", new Float32Array(spec.classes * spec.featureWidth).fill(1), [spec.classes, spec.featureWidth]),
  };
  const paramShapes = trainingParamShapes(spec);
  for (const name of trainableNames(spec)) feeds[name] = new ort.Tensor("float32", stateDict.get(name)!.data, paramShapes.get(name)!);
  for (let i = 0; i < WARMUP + TIMED; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = fs.readdirSync(dir).map((f) => path.join(dir, f))[0];
  const events = JSON.parse(fs.readFileSync(file, "utf8")) as ProfileEvent[];
  fs.rmSync(dir, { recursive: true, force: true });

  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").slice(WARMUP);
  const nodes = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
  const perRun = nodes.length / (WARMUP + TIMED);
  const timed = nodes.slice(WARMUP * perRun);
  const byOp = new Map<string, number>();
  const byShape = new Map<string, { ms: number; count: number }>();
  for (const e of timed) {
    const op = e.args?.op_name ?? "?";
    const ms = e.dur / 1000 / TIMED;
    byOp.set(op, (byOp.get(op) ?? 0) + ms);
    const shapes = (e.args?.input_type_shape ?? []).map((s) => `[${Object.values(s)[0].join(",")}]`).join(" ");
    const key = `${op} ${shapes}`;
    const entry = byShape.get(key) ?? { ms: 0, count: 0 };
    byShape.set(key, { ms: entry.ms + ms, count: entry.count + 1 / TIMED });
  }
  const runMs = runs.map((r) => r.dur / 1000).sort((a, b) => a - b);
  const kernels = [...byOp.values()].reduce((a, b) => a + b, 0);
  console.log(`ResNet20 training step, batch ${batch}, ${nchwcBlock === null ? "plain convolutions" : `NCHWc convolutions (block ${nchwcBlock})`}, ${os.availableParallelism()} threads`);
  console.log(`run: median ${runMs[runMs.length >> 1].toFixed(1)} ms over ${TIMED} runs; kernels ${kernels.toFixed(1)} ms, ${perRun} nodes`);
  console.log("\nms per step by operator:");
  for (const [op, ms] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${ms.toFixed(2).padStart(7)}  ${op}`);
  console.log("\nms per step by operator and input shapes (top 25):");
  for (const [key, { ms, count }] of [...byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    console.log(`  ${ms.toFixed(2).padStart(7)}  x${Math.round(count).toString().padEnd(3)} ${key}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
