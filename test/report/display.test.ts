import { publish, updatableDisplay } from "../../src/report/display";
import { summaryBundle, SUMMARY_MIME, profileBundle } from "../../src/report/notebook";
import { progressBundle, progressDisplay } from "../../src/report/progress-display";
import { PROFILES } from "../../src/profile";

// The hook tslab's kernel installs for the running cell; the tests stand in for the kernel's message writer.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };

type Sent = { content: { data: Record<string, unknown>; transient?: { display_id?: string } }; update: boolean };

function recordKernel(): Sent[] {
  const sent: Sent[] = [];
  jupyter.lastWriteDisplayData = (content: Sent["content"], update: boolean) => sent.push({ content, update });
  return sent;
}

afterEach(() => {
  jupyter.lastWriteDisplayData = null;
});

describe("report display transport", () => {
  it("says what to do when no tslab kernel is running", () => {
    expect(() => publish({ "text/plain": "x" })).toThrow(/need the tslab kernel.*\*Bundle function/);
  });

  it("sends every mime type of a bundle in one display_data message", () => {
    const sent = recordKernel();
    publish({ "text/plain": "p", "application/vnd.vegalite.v5+json": { mark: "bar" } });
    expect(sent).toEqual([
      { content: { data: { "text/plain": "p", "application/vnd.vegalite.v5+json": { mark: "bar" } }, metadata: {} }, update: false },
    ]);
  });

  it("updates one output in place: display_data first, then update_display_data with the same id", () => {
    const sent = recordKernel();
    const out = updatableDisplay();
    out.show({ "text/plain": "1" });
    out.show({ "text/plain": "2" });
    expect(sent.map((s) => s.update)).toEqual([false, true]);
    expect(sent.map((s) => s.content.transient?.display_id)).toEqual([out.displayId, out.displayId]);
    expect(updatableDisplay().displayId).not.toBe(out.displayId);
  });

  it("progress display throttles redraws but always draws the final event", () => {
    const sent = recordKernel();
    const progress = progressDisplay(60_000);
    for (let done = 0; done <= 10; done++) progress({ stage: "extract", done, total: 10, unit: "images" });
    const shown = sent.map((s) => s.content.data["text/plain"] as string);
    expect(shown[0]).toBe("extract: 0/10 images (0%)");
    expect(shown[1]).toMatch(/^extract: 10\/10 images \(100%\)(, [\d.]+ images\/s, \d+s)?$/);
    expect(shown).toHaveLength(2);
    expect(sent[1].update).toBe(true);
  });

  it("progress bundle adds the stage's rate and the time left once it has run a while", () => {
    expect(progressBundle({ stage: "extract", done: 250, total: 1000, unit: "images" }, { seconds: 2 })["text/plain"]).toBe(
      "extract: 250/1000 images (25%), 125 images/s, 6s left",
    );
    expect(progressBundle({ stage: "fine-tune", done: 3, total: 50000, unit: "images" }, { seconds: 0.5 })["text/plain"]).toBe(
      "fine-tune: 3/50000 images (0%), 6.00 images/s, 2h18m left",
    );
    expect(progressBundle({ stage: "s", done: 10, total: 10 }, { seconds: 75 })["text/plain"]).toBe("s: 10/10 (100%), 0.133 items/s, 1m15s");
    expect(progressBundle({ stage: "s", done: 0, total: 10 }, { seconds: 5 })["text/plain"]).toBe("s: 0/10 (0%)");
  });

  it("progress bundle draws a bar at the done fraction", () => {
    const b = progressBundle({ stage: "a<b", done: 1, total: 4 });
    expect(b["text/plain"]).toBe("a<b: 1/4 (25%)");
    expect(b["text/html"]).toContain("width:25%");
    expect(b["text/html"]).toContain("a&lt;b");
  });

  it("summary and profile bundles carry what the reproduce command reads", () => {
    expect(summaryBundle("  two\n lines ")[SUMMARY_MIME]).toEqual({ summary: "two lines" });
    expect(profileBundle(PROFILES.smoke)["text/plain"]).toMatch(/^profile smoke \(DECOMP_PROFILE\): 500 train/);
  });
});
