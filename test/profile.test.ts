import { describeProfile, loadProfile, PROFILES } from "../src/profile";

describe("profile", () => {
  it("defaults to full, the real reproduction", () => {
    expect(loadProfile({}).name).toBe("full");
    expect(loadProfile({ DECOMP_PROFILE: "" }).name).toBe("full");
  });

  it("selects smoke for CI and full on request", () => {
    expect(loadProfile({ DECOMP_PROFILE: "smoke" })).toBe(PROFILES.smoke);
    expect(loadProfile({ DECOMP_PROFILE: "full" }).testImages).toBe(10000);
    expect(PROFILES.smoke.testImages).toBeLessThan(PROFILES.full.testImages);
  });

  it("rejects unknown names and lists the valid ones", () => {
    expect(() => loadProfile({ DECOMP_PROFILE: "Smoke" })).toThrow(/"Smoke" is not a profile; set it to "smoke".*"full"/);
  });

  it("runs 30 noise draws, 5 augmentation seeds and 3 fine-tune seeds in full, fewer in smoke", () => {
    expect(PROFILES.full.noiseSeeds).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(PROFILES.full.fineTuneSeeds).toEqual([0, 1, 2]);
    expect(PROFILES.smoke.augmentSeeds).toEqual([0, 1]);
    expect(describeProfile(PROFILES.smoke)).toContain("5 (0..4) noise / 2 (0, 1) augmentation / 1 (0) fine-tune seed(s)");
  });

  it("describes itself in one line", () => {
    expect(describeProfile(PROFILES.full)).toBe(
      "profile full (DECOMP_PROFILE): 50000 train / 10000 test images, 30 (0..29) noise / 5 (0..4) augmentation / 3 (0..2) fine-tune seed(s), 1 fine-tune epoch(s)",
    );
  });
});
