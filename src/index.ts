export const VERSION = "0.1.0";
export * as report from "./report/index";
export { PROFILES, PROFILE_ENV, describeProfile, loadProfile } from "./profile";
export type { Profile, ProfileName } from "./profile";
