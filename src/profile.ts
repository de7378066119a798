/**
 * Run profiles: how much work a notebook does. `smoke` keeps every notebook well under a minute so CI can run
 * the whole suite through the real kernel; `full` is the reproduction the paper's numbers are compared with.
 */
export type ProfileName = "smoke" | "full";

export interface Profile {
  name: ProfileName;
  /** Training images used to build the class histograms (CIFAR-10 has 50000). */
  trainImages: number;
  /** Test images used to measure accuracy (CIFAR-10 has 10000). */
  testImages: number;
  /** Seeds for experiments that are repeated (random baselines, noise). */
  seeds: number[];
  /** Fine-tuning epochs for the retraining study (the paper fine-tunes for one). */
  fineTuneEpochs: number;
}

export const PROFILE_ENV = "DECOMP_PROFILE";

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  smoke: { name: "smoke", trainImages: 500, testImages: 500, seeds: [0], fineTuneEpochs: 1 },
  full: { name: "full", trainImages: 50000, testImages: 10000, seeds: [0, 1, 2], fineTuneEpochs: 1 },
};

/** Reads DECOMP_PROFILE; unset means `full`, because the main command is the real reproduction. */
export function loadProfile(env: Record<string, string | undefined> = process.env): Profile {
  const raw = env[PROFILE_ENV];
  if (raw === undefined || raw === "") return PROFILES.full;
  if (raw === "smoke" || raw === "full") return PROFILES[raw];
  throw new Error(
    `${PROFILE_ENV}=${JSON.stringify(raw)} is not a profile; set it to "smoke" (quick CI check) or "full" (the reproduction), or leave it unset for "full".`,
  );
}

/** One line for the top of a notebook, so every report says how much work produced it. */
export function describeProfile(profile: Profile): string {
  return (
    `profile ${profile.name} (${PROFILE_ENV}): ${profile.trainImages} train / ${profile.testImages} test images, ` +
    `seeds [${profile.seeds.join(", ")}], ${profile.fineTuneEpochs} fine-tune epoch(s)`
  );
}
