/** Child process of heal.test.ts: extracts ResNet20 test features into the cache folder argv[2], prints their sha256. */
import { createHash } from "node:crypto";
import { getFeatures } from "../../src/features";

getFeatures({ model: "resnet20", split: "test", norm: "cifar", limit: Number(process.argv[3]), cacheDir: process.argv[2] }).then(
  (set) => console.log(createHash("sha256").update(set.features).update(set.logits).digest("hex")),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
