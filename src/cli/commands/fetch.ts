/** `decomp fetch`: download (or copy from the mirror) and verify artifacts ahead of time. */
import { fetchArtifact, findArtifact, loadManifest } from "../../artifacts";
import { loadCifar10 } from "../../data";
import { stderrProgress } from "../progress";
import type { Command } from "../command";

export const fetchCommand: Command = {
  name: "fetch",
  summary:
    "Fetch and verify artifacts into the cache: 'cifar10' (downloads and decodes both splits), 'checkpoints' (every mirrored checkpoint), or an artifact id from data/manifest.json.",
  positionals: "<cifar10|checkpoints|artifact-id>...",
  options: {},
  async run(_values, positionals, ctx) {
    if (positionals.length === 0) throw new Error("Name what to fetch, e.g. 'decomp fetch cifar10'. Run 'decomp fetch --help' for the choices.");
    // Every name is checked before the first download starts.
    for (const what of positionals) if (what !== "cifar10" && what !== "checkpoints") findArtifact(what);
    const onProgress = stderrProgress();
    const fetched: Record<string, unknown> = {};
    for (const what of positionals) {
      if (what === "cifar10") {
        for (const split of ["train", "test"] as const) {
          const set = await loadCifar10(split, { onProgress });
          fetched[`cifar10/${split}`] = { images: set.count };
          ctx.log(`cifar10 ${split}: ${set.count} images ready`);
        }
        continue;
      }
      const ids = what === "checkpoints" ? loadManifest().artifacts.filter((a) => a.source === "pytorch_resnet_cifar10" && a.mirrored !== false).map((a) => a.id) : [what];
      for (const id of ids) {
        const file = await fetchArtifact(id, { onProgress });
        fetched[id] = { path: file };
        ctx.log(`${id}: ${file}`);
      }
    }
    return { fetched };
  },
};
