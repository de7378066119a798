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
  /** Noise draws of the noise ablation (notebook 06): milliseconds each, so enough for a narrow interval. */
  noiseSeeds: number[];
  /** Augmentation seeds of Algorithm 1's training pass whose A_d spread notebook 02 reports (one extraction each). */
  augmentSeeds: number[];
  /** Shuffling and augmentation seeds of the fine-tune in notebook 04 (one epoch each). */
  fineTuneSeeds: number[];
  /** Fine-tuning epochs for the retraining study (the paper fine-tunes for one). */
  fineTuneEpochs: number;
  /** Deeper CIFAR ResNets that notebook 01 also trains CSG gates on (one CSG epoch each), after ResNet20. */
  csgDeeperModels: string[];
}

export const PROFILE_ENV = "DECOMP_PROFILE";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  smoke: { name: "smoke", trainImages: 500, testImages: 500, noiseSeeds: range(5), augmentSeeds: range(2), fineTuneSeeds: [0], fineTuneEpochs: 1, csgDeeperModels: [] },
  full: { name: "full", trainImages: 50000, testImages: 10000, noiseSeeds: range(30), augmentSeeds: range(5), fineTuneSeeds: range(3), fineTuneEpochs: 1, csgDeeperModels: ["resnet32", "resnet44", "resnet56"] },
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

function seedList(seeds: number[]): string {
  const consecutive = seeds.every((s, i) => i === 0 || s === seeds[i - 1] + 1);
  return seeds.length > 2 && consecutive ? `${seeds.length} (${seeds[0]}..${seeds[seeds.length - 1]})` : `${seeds.length} (${seeds.join(", ")})`;
}

/** One line for the top of a notebook, so every report says how much work produced it. */
export function describeProfile(profile: Profile): string {
  return (
    `profile ${profile.name} (${PROFILE_ENV}): ${profile.trainImages} train / ${profile.testImages} test images, ` +
    `${seedList(profile.noiseSeeds)} noise / ${seedList(profile.augmentSeeds)} augmentation / ${seedList(profile.fineTuneSeeds)} fine-tune seed(s), ` +
    `${profile.fineTuneEpochs} fine-tune epoch(s)`
  );
}
