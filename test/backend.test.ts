import * as tf from "@tensorflow/tfjs";
import { backendInfo, initBackend, selectBackend } from "../src/backend";

describe("tensor backend selection", () => {
  const saved = process.env.DECOMP_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.DECOMP_BACKEND;
    else process.env.DECOMP_BACKEND = saved;
  });

  it("refuses backendInfo() before a backend is chosen", () => {
    expect(() => backendInfo()).toThrow(/await initBackend\(\) first/);
  });

  it("by default skips the aliased tfjs-node and picks wasm, logging one line", async () => {
    delete process.env.DECOMP_BACKEND;
    const lines: string[] = [];
    const info = await initBackend({ logger: (l) => lines.push(l) });
    expect(info.name).toBe("wasm");
    expect(info.tfBackend).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(info.tried.map((t) => t.name)).toEqual(["tfjs-node-gpu", "tfjs-node"]);
    // Here @tensorflow/tfjs-node is an alias of plain tfjs: it loads, but must be rejected as non-native.
    expect(info.tried[1].error).toMatch(/registered no 'tensorflow' backend/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/backend wasm.*skipped tfjs-node-gpu .*tfjs-node /);
    expect(backendInfo()).toBe(info);
    // Chosen once: a second call neither re-selects nor logs again.
    expect(await initBackend({ logger: (l) => lines.push(l) })).toBe(info);
    expect(lines).toHaveLength(1);
  });

  it("honours DECOMP_BACKEND=cpu and reports it", async () => {
    process.env.DECOMP_BACKEND = "cpu";
    const lines: string[] = [];
    const info = await selectBackend({ logger: (l) => lines.push(l) });
    expect(info).toEqual({ name: "cpu", tfBackend: "cpu", reason: "forced by DECOMP_BACKEND=cpu", tried: [] });
    expect(tf.getBackend()).toBe("cpu");
    expect(backendInfo().name).toBe("cpu");
    expect(lines[0]).toMatch(/backend cpu.*forced by DECOMP_BACKEND=cpu/);
    expect(tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0]).toBe(5);
    // The deliberate switch stays in force for library code that only asks initBackend().
    delete process.env.DECOMP_BACKEND;
    expect(await initBackend({ logger: (l) => lines.push(l) })).toBe(info);
    expect(tf.getBackend()).toBe("cpu");
    expect(lines).toHaveLength(1);
  });

  it("fails clearly when the forced backend cannot load", async () => {
    await expect(selectBackend({ force: "tfjs-node", logger: () => {} })).rejects.toThrow(
      /DECOMP_BACKEND=tfjs-node cannot be used: @tensorflow\/tfjs-node loaded but registered no 'tensorflow' backend/,
    );
    await expect(selectBackend({ force: "tfjs-node-gpu", logger: () => {} })).rejects.toThrow(
      /DECOMP_BACKEND=tfjs-node-gpu cannot be used: Cannot find module '@tensorflow\/tfjs-node-gpu'/,
    );
  });

  it("rejects an unknown backend name, listing the valid ones", async () => {
    await expect(selectBackend({ force: "webgpu", logger: () => {} })).rejects.toThrow(
      "DECOMP_BACKEND='webgpu' is not a backend; use one of tfjs-node-gpu, tfjs-node, wasm, cpu",
    );
  });

  it("can switch back to wasm after cpu (wasm paths set only once)", async () => {
    const info = await selectBackend({ force: "wasm", logger: () => {} });
    expect(info.tfBackend).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
  });
});
