import { runCli as run } from "./run-cli";

describe("decomp CLI", () => {
  it("lists its commands", async () => {
    const { code, stdout } = await run("--help");
    expect(code).toBe(0);
    for (const name of ["fetch", "eval", "select", "bench"]) expect(stdout).toMatch(new RegExp(`^  ${name} `, "m"));
  });

  it.each(["fetch", "eval", "select", "bench"])("'%s --help' describes every option including --json", async (name) => {
    const { code, stdout } = await run(name, "--help");
    expect(code).toBe(0);
    expect(stdout).toContain(`decomp ${name}`);
    expect(stdout).toContain("--json");
  });

  it("names an unknown command and the known ones", async () => {
    const { code, stderr } = await run("evaluate");
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown command "evaluate"\. Known commands: fetch, eval, select/);
  });

  it("rejects an unknown option and points to --help", async () => {
    const { code, stderr } = await run("eval", "--modle", "resnet20");
    expect(code).toBe(2);
    expect(stderr).toMatch(/--modle/);
    expect(stderr).toMatch(/decomp eval --help/);
  });

  it("rejects an unknown model name before doing any work", async () => {
    const { code, stderr } = await run("eval", "--model", "resnet99");
    expect(code).toBe(1);
    expect(stderr).toMatch(/unknown model 'resnet99'; known models: resnet20, resnet32, resnet44, resnet56, resnet110/);
  });

  it("rejects k larger than the feature width before extracting anything", async () => {
    const { code, stderr } = await run("select", "--k1", "65");
    expect(code).toBe(1);
    expect(stderr).toMatch(/k1 must be an integer in 1\.\.64 \(the feature width is 64\), got 65/);
  });

  it("rejects an unknown normalisation", async () => {
    const { code, stderr } = await run("eval", "--norm", "imagenet", "--limit", "10");
    expect(code).toBe(1);
    expect(stderr).toMatch(/Unknown normalisation "imagenet"\. Known normalisations: checkpoint, cifar/);
  });
});
