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

  it("describes itself in one line", () => {
    expect(describeProfile(PROFILES.full)).toBe(
      "profile full (DECOMP_PROFILE): 50000 train / 10000 test images, seeds [0, 1, 2], 1 fine-tune epoch(s)",
    );
  });
});
