/**
 * Decoding and preprocessing on worker threads, so the JavaScript thread that feeds the engine only gathers
 * finished images: a pool of workers (image-worker.ts), each given files as it finishes others.
 */
import * as os from "node:os";
import { Worker } from "node:worker_threads";
import { moduleEntry } from "../runtime-entry";
import type { ImageReply, ImageTask } from "./image-worker";
import type { CropFlip } from "./transforms";
import type { Recipe } from "./preprocess";

/** Overrides the number of decoding workers (default: one per core beyond the first, at least one, at most 4). */
export const DECODE_WORKERS_ENV = "DECOMP_DECODE_WORKERS";

export function defaultWorkerCount(env: Record<string, string | undefined> = process.env): number {
  const set = env[DECODE_WORKERS_ENV];
  if (set !== undefined && set !== "") {
    const n = Number(set);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${DECODE_WORKERS_ENV} must be a positive integer, got '${set}'`);
    return n;
  }
  return Math.min(4, Math.max(1, os.availableParallelism() - 1));
}

/** Files per worker in flight: enough that decoding (libvips' threads) and resizing (the worker's) overlap. */
const IN_FLIGHT_PER_WORKER = 4;

interface Pending {
  resolve: (pixels: Uint8Array) => void;
  reject: (err: Error) => void;
  worker: number;
}

export class ImagePool {
  private readonly workers: Worker[];
  private readonly load: number[];
  private readonly pending = new Map<number, Pending>();
  private readonly queue: ImageTask[] = [];
  private nextId = 0;
  private failure: Error | null = null;

  constructor(recipe: Recipe, size = defaultWorkerCount()) {
    const { file: entry, execArgv } = moduleEntry(__filename, "image-worker");
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(entry, { workerData: { recipe }, execArgv });
      worker.on("message", (reply: ImageReply) => this.settle(reply));
      worker.on("error", (err) => this.fail(new Error(`an image worker failed: ${err.message}`)));
      worker.on("exit", (code) => {
        if (code !== 0) this.fail(new Error(`an image worker exited with code ${code}`));
      });
      return worker;
    });
    this.load = this.workers.map(() => 0);
  }

  /** One file decoded and preprocessed (then cropped and flipped, for training). */
  image(file: string, augment?: CropFlip): Promise<Uint8Array> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: -1 });
      this.queue.push({ id, file, augment });
      this.dispatch();
    });
  }

  /** Files decoded and preprocessed into one buffer (`out`, or a new one), `bytesEach` per image (the recipe's fixed output size), in order. */
  async batch(files: readonly string[], bytesEach: number, augments?: readonly CropFlip[], out: Uint8Array = new Uint8Array(files.length * bytesEach)): Promise<Uint8Array> {
    await Promise.all(
      files.map(async (file, i) => {
        out.set(await this.image(file, augments?.[i]), i * bytesEach);
      }),
    );
    return out;
  }

  async close(): Promise<void> {
    this.fail(new Error("the image pool was closed"));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const w = this.load.indexOf(Math.min(...this.load));
      if (this.load[w] >= IN_FLIGHT_PER_WORKER) return;
      const task = this.queue.shift()!;
      this.load[w]++;
      this.pending.get(task.id)!.worker = w;
      this.workers[w].postMessage(task);
    }
  }

  private settle(reply: ImageReply): void {
    const p = this.pending.get(reply.id);
    if (p === undefined) return;
    this.pending.delete(reply.id);
    this.load[p.worker]--;
    if ("error" in reply) p.reject(new Error(reply.error));
    else p.resolve(reply.pixels);
    this.dispatch();
  }

  private fail(err: Error): void {
    if (this.failure === null) this.failure = err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    this.queue.length = 0;
  }
}
