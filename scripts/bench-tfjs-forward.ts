/**
 * Forward throughput of the TF.js ResNet executor (images/s) per backend, model, batch size, and with/without
 * BatchNorm folding. Not a test: a measurement to report.
 * From the repository root (checkpoints from $DECOMP_MIRROR, else ../shared/mirror):
 *   npx tsc -p . --outDir dist/bench && node dist/bench/scripts/bench-tfjs-forward.js [backends] [models] [batches]
 * e.g. ... wasm,cpu resnet20,resnet56 64,128,256 (BENCH_FOLD=true to skip the unfolded variant)
 */
import * as path from "node:path";
import { selectBackend } from "../src/backend";
import { cifarResNetSpec } from "../src/models/families/cifar-resnet";
import { createTfjsEngine } from "../src/models/tfjs-engine";
import { loadTorchCheckpoint } from "../src/torch";

const FILES: Record<string, string> = { resnet20: "resnet20-12fca82f.th", resnet56: "resnet56-4bfd9763.th" };

async function main(): Promise<void> {
  const [backends, models, batches] = [process.argv[2] ?? "wasm,cpu", process.argv[3] ?? "resnet20,resnet56", process.argv[4] ?? "64,128,256"].map((s) => s.split(","));
  const folds = (process.env.BENCH_FOLD ?? "true,false").split(",").map((s) => s === "true");
  const mirror = path.resolve(process.env.DECOMP_MIRROR ?? path.join("..", "shared", "mirror"), "pytorch_resnet_cifar10");
  console.log("backend\tmodel\tbatch\tfoldBN\timages/s");
  for (const backend of backends) {
    await selectBackend({ force: backend, logger: () => {} });
    for (const model of models) {
      const { stateDict } = await loadTorchCheckpoint(path.join(mirror, FILES[model]));
      for (const batch of batches.map(Number)) {
        const images = new Float32Array(batch * 32 * 32 * 3).map((_, i) => Math.sin(i * 0.37));
        for (const foldBatchNorm of folds) {
          const engine = createTfjsEngine(cifarResNetSpec(Number(model.slice(6))), stateDict, { foldBatchNorm });
          await engine.forward(images, batch); // warm-up: kernel setup, memory growth
          let runs = 0;
          const start = process.hrtime.bigint();
          let elapsed = 0;
          while (runs < 2 || elapsed < 3) {
            await engine.forward(images, batch);
            runs++;
            elapsed = Number(process.hrtime.bigint() - start) / 1e9;
          }
          engine.dispose();
          console.log(`${backend}\t${model}\t${batch}\t${foldBatchNorm}\t${((runs * batch) / elapsed).toFixed(1)}`);
        }
      }
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
