/**
 * MIS of the pretrained ResNet20's pooled test features against scikit-learn on the same features
 * (scripts/make-mis-fixture.py): the bare estimator to 1e-6, mutual_info_classif with its tie-breaking
 * jitter (random_state=0) to 1e-4, with our own seeded jitter.
 */
import * as fs from "fs";
import * as path from "path";
import { featureMatrix, getFeatures } from "../../src/features";
import { channelClassMutualInfo, mutualInformationScore } from "../../src/method/mutual-info";

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "../fixtures/mi/resnet20-mis.json"), "utf8")) as { mis: number; misWithoutNoise: number };

describe("MIS of ResNet20's test features (real model and data)", () => {
  it("agrees with scikit-learn with and without its tie-breaking noise", async () => {
    const set = await getFeatures({ model: "resnet20", split: "test", norm: "cifar" });
    const features = featureMatrix(set);
    const bare = mutualInformationScore(channelClassMutualInfo(features, set.labels, 10, { jitterSeed: null }), 10, 64);
    expect(Math.abs(bare - fixture.misWithoutNoise)).toBeLessThan(1e-6);
    const jittered = mutualInformationScore(channelClassMutualInfo(features, set.labels, 10), 10, 64);
    expect(Math.abs(jittered - fixture.mis)).toBeLessThan(1e-4);
  }, 300000);
});
