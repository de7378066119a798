/**
 * Sends mime bundles to the notebook through the running tslab kernel.
 *
 * tslab's public `display` sends one mime type per call, so a chart could not carry both the interactive
 * Vega-Lite spec and its static rendering in one output. tslab keeps the function that publishes
 * `display_data` / `update_display_data` messages for the current cell in `tslab/dist/jupyter`
 * (`lastWriteDisplayData`, the same hook its `display` uses); calling it directly sends a whole bundle.
 */

/** Mime type -> payload: strings for text and base64 images, plain objects for JSON types (e.g. Vega-Lite). */
export type MimeBundle = Record<string, string | object>;

/** The kernel's hook: the same function object tslab's own `display` calls. */
type WriteDisplayData = (
  content: { data: MimeBundle; metadata: object; transient?: { display_id?: string } },
  update: boolean,
) => void;

function kernelWriter(): WriteDisplayData {
  // Required lazily: outside a kernel (tests, CLI) the bundle builders are used without loading tslab.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: WriteDisplayData | null };
  if (!jupyter.lastWriteDisplayData) {
    throw new Error(
      "decomp's show* helpers publish to a notebook and need the tslab kernel (select the \"TypeScript\" tslab kernel); " +
        "outside a notebook use the matching *Bundle function to get the mime bundle instead.",
    );
  }
  return jupyter.lastWriteDisplayData;
}

/**
 * Publishes one output carrying every mime type in the bundle; the frontend picks the richest it can show.
 * `metadata` is the output's metadata, keyed by mime type (a renderer's options, e.g. the charts').
 */
export function publish(bundle: MimeBundle, metadata: object = {}): void {
  kernelWriter()({ data: bundle, metadata }, false);
}

/** One output that can be replaced in place (Jupyter display_id), e.g. a progress line during a long cell. */
export interface UpdatableDisplay {
  readonly displayId: string;
  /** The first call creates the output, later calls replace its content. */
  show(bundle: MimeBundle): void;
}

let displayCounter = 0;

export function updatableDisplay(): UpdatableDisplay {
  const displayId = `decomp-${process.pid}-${Date.now().toString(36)}-${displayCounter++}`;
  let shown = false;
  return {
    displayId,
    show(bundle) {
      kernelWriter()({ data: bundle, metadata: {}, transient: { display_id: displayId } }, shown);
      shown = true;
    },
  };
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
