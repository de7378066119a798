/**
 * MIS of the pretrained ResNet20's pooled test features against scikit-learn (scripts/make-mis-fixture.py). The
 * fixture carries the features scikit-learn read, so both estimators see identical inputs on any CPU: the bare
 * estimator agrees to 1e-6. With the tie-breaking jitter, ours draws other noise than scikit-learn's, so its MIS
 * is held to the spread scikit-learn's own draws show (random_state 0..9). And the features are what this
 * machine's extraction gives, within float32 rounding.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { decodeNpy } from "../../src/data/npy";
import { featureMatrix, getFeatures } from "../../src/features";
import { channelClassMutualInfo, mutualInformationScore } from "../../src/method/mutual-info";

const FIXTURES = path.join(__dirname, "../fixtures/mi");
const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, "resnet20-mis.json"), "utf8")) as { mis: number; misBySeed: number[]; misWithoutNoise: number };
const npy = (name: string) => decodeNpy(gunzipSync(fs.readFileSync(path.join(FIXTURES, name))), name);

describe("MIS of ResNet20's test features (real model and data)", () => {
  const features = npy("resnet20-test-features.npy.gz");
  const labels = Uint8Array.from(npy("resnet20-test-labels.npy.gz").data);
  const matrix = { data: features.data, rows: features.shape[0], cols: features.shape[1] };

  it("agrees with scikit-learn's estimator on the same features", () => {
    expect(features.shape).toEqual([10000, 64]);
    const bare = mutualInformationScore(channelClassMutualInfo(matrix, labels, 10, { jitterSeed: null }), 10, 64);
    expect(Math.abs(bare - fixture.misWithoutNoise)).toBeLessThan(1e-6);
  });

  it("with its own tie-breaking jitter, lands within the spread of scikit-learn's jitter draws", () => {
    const jittered = mutualInformationScore(channelClassMutualInfo(matrix, labels, 10), 10, 64);
    const [lo, hi] = [Math.min(...fixture.misBySeed), Math.max(...fixture.misBySeed)];
    const spread = hi - lo;
    expect(spread).toBeGreaterThan(0);
    expect(fixture.misBySeed[0]).toBe(fixture.mis);
    expect({ jittered, ok: jittered >= lo - spread && jittered <= hi + spread }).toEqual({ jittered, ok: true });
  });

  it("reads the features this machine extracts, within float32 rounding", async () => {
    const set = await getFeatures({ model: "resnet20", split: "test", norm: "cifar" });
    expect(Array.from(set.labels)).toEqual(Array.from(labels));
    const ours = featureMatrix(set).data;
    let gap = 0;
    let scale = 0;
    for (let i = 0; i < ours.length; i++) {
      gap = Math.max(gap, Math.abs(ours[i] - features.data[i]));
      scale = Math.max(scale, Math.abs(features.data[i]));
    }
    // Twenty float32 layers of sums over up to 576 products: ~1e-5 of the largest feature at most, kept at 1e-4.
    expect(gap).toBeLessThan(1e-4 * scale);
  }, 300_000);
});
