/** Jest runs the TypeScript tests through ts-jest; type checking is left to `tsc --noEmit` (npm run typecheck) so tests start fast. */
module.exports = {
  testEnvironment: "<rootDir>/test/environment.js",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true }] },
  testTimeout: 120000,
};
