/**
 * What the live front-end tests do to a notebook and what they expect to see, shared by the Jupyter Notebook 6.4
 * test (live.test.ts) and the JupyterLab 3.6 one (lab-live.test.ts): the parameters edit, the cells re-run after
 * it, and the checks on the three states (after run all, after the edit, after restart and run all).
 */
import type { LiveEdit, LiveStep } from "../../scripts/live-notebook";

export const cell = <S extends LiveStep>(step: S, index: number): S["cells"][number] => step.cells.find((c) => c.index === index)!;

/** The execution count a cell's prompt shows ("[12]" -> 12). */
export const count = (step: LiveStep, index: number) => Number(/\[(\d+)\]/.exec(cell(step, index).prompt)?.[1]);

/** Every cell of a step without an error or stderr output; a failure prints the cell and what it showed. */
export function expectNoErrors(step: LiveStep): void {
  const failing = step.cells.filter((c) => c.errors.length > 0).map((c) => ({ step: step.name, cell: c.index, errors: c.errors, screenshot: step.screenshot }));
  expect(failing).toEqual([]);
}

export interface LiveScenario {
  title: string;
  notebook: string;
  edit: LiveEdit;
  check(runAll: LiveStep, edited: LiveStep, restarted: LiveStep): void;
}

export const SWEEP: LiveScenario = {
  title: "02: run all, edit showClass and k1Show, re-run Fig. 2, restart and run all",
  notebook: "notebooks/02-k1-k2-sweep.ipynb",
  edit: { replace: [['const showClass = "cat";', 'const showClass = "ship";'], ["const k1Show = 5;", "const k1Show = 3;"]], rerun: [4] },
  check(runAll, edited, restarted) {
    expect(cell(runAll, 4).text).toContain('Class "cat": feature frequency in per-instance top-5 sets');
    expect(cell(edited, 4).text).toContain('Class "ship": feature frequency in per-instance top-3 sets');
    expect(cell(edited, 4).text).not.toContain('Class "cat"');
    // The re-run cells took new execution counts after the first run's; the other cells kept theirs.
    expect(count(edited, 4)).toBeGreaterThan(count(runAll, 13));
    expect(count(edited, 6)).toBe(count(runAll, 6));
    // After a restart every cell runs again, with the edited parameters.
    expect(count(restarted, 1)).toBe(1);
    expect(cell(restarted, 4).text).toContain('Class "ship": feature frequency in per-instance top-3 sets');
    expect(cell(restarted, 13).text).toMatch(/A_d at k1 = k2 = 5: [\d.]+ %/);
  },
};

export const NOISE: LiveScenario = {
  title: "06: run all, edit the noise seeds, re-run the ablation, its table, chart and summary, restart and run all",
  notebook: "notebooks/06-noise-ablation.ipynb",
  edit: { replace: [["const seeds = profile.noiseSeeds;", "const seeds = [0, 1, 2];"]], rerun: [2, 3, 5, 6] },
  check(runAll, edited, restarted) {
    expect(cell(runAll, 3).text).toContain("5 noise seeds (0..4)");
    expect(cell(edited, 3).text).toContain("3 noise seeds (0..2)");
    expect(cell(edited, 5).text).toContain("mean over 3 seeds");
    expect(cell(edited, 6).text).toContain("over 3 seeds");
    expect(cell(restarted, 3).text).toContain("3 noise seeds (0..2)");
  },
};

export const YOUR_MODEL: LiveScenario = {
  title: "07: run all, edit k1 and k2, re-run the cells that read them, restart and run all",
  notebook: "notebooks/07-your-model.ipynb",
  edit: { replace: [["const k1: number = 5;", "const k1: number = 3;"], ["const k2: number = 5;", "const k2: number = 3;"]], rerun: [4, 6, 8, 10, 12, 14, 16, 17] },
  check(runAll, edited, restarted) {
    expect(cell(runAll, 17).text).toMatch(/A_d at k1 = 5, k2 = 5/);
    expect(cell(edited, 17).text).toMatch(/A_d at k1 = 3, k2 = 3/);
    expect(cell(restarted, 17).text).toMatch(/A_d at k1 = 3, k2 = 3/);
  },
};
