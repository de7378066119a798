/**
 * Convolution gradient kernels for training on TF.js's WASM backend, built from its fast XNNPACK Conv2D. tfjs-backend-wasm 4.22 has
 * no Conv2DBackpropFilter at all (a convolution cannot be trained there) and its Conv2DBackpropInput is a
 * plain loop several times slower than Conv2D; both gradients are convolutions themselves:
 * - filter gradient: a stride-1 convolution, dilated by the forward stride, of the padded input with the
 *   output gradient, with the roles of batch and channels swapped (input channels become the batch);
 * - input gradient: the output gradient with (stride - 1) zeros inserted between pixels, convolved with the
 *   spatially flipped filter whose in/out channels are swapped.
 * Only kernels the backend already has run inside, so this is plain TF.js on whatever backend it is registered for.
 */
import * as tf from "@tensorflow/tfjs";

type Pad = "valid" | "same" | number | tf.backend_util.ExplicitPadding;

interface ConvGradAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
}

function checkLayout(kernel: string, attrs: ConvGradAttrs): void {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") {
    throw new Error(`${kernel} (decomp training kernel) supports NHWC only, got ${attrs.dataFormat}`);
  }
}

/** dW[kh, kw, ci, co] = sum over n, oh, ow of xpad[n, oh*sh + kh, ow*sw + kw, ci] * dy[n, oh, ow, co]. */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], attrs: ConvGradAttrs): tf.Tensor4D {
  checkLayout("Conv2DBackpropFilter", attrs);
  const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    // Exactly the rows/columns the forward read: (o - 1) * s + k of the padded input, from the top-left.
    const needH = (oh - 1) * sh + kh;
    const needW = (ow - 1) * sw + kw;
    let xpad = tf.pad(x, [[0, 0], [top, Math.max(0, needH - h - top)], [left, Math.max(0, needW - w - left)], [0, 0]]);
    if (xpad.shape[1] > needH || xpad.shape[2] > needW) xpad = tf.slice(xpad, [0, 0, 0, 0], [-1, needH, needW, -1]);
    const xT = tf.transpose(xpad, [3, 1, 2, 0]) as tf.Tensor4D; // [ci, H', W', n]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [oh, ow, n, co]
    const grad = tf.conv2d(xT, dyT, 1, "valid", "NHWC", [sh, sw]); // [ci, kh, kw, co]
    return tf.transpose(grad, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** dx = correlation of the zero-inserted, padded dy with the flipped, channel-swapped filter. */
export function conv2dInputGradient(inputShape: [number, number, number, number], dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: ConvGradAttrs): tf.Tensor4D {
  checkLayout("Conv2DBackpropInput", attrs);
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
  const { top, left } = info.padInfo;
  return tf.tidy(() => {
    const [n, , , co] = dy.shape;
    let d: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      // [n, oh, 1, ow, 1, co] padded to [n, oh, sh, ow, sw, co]: each gradient pixel followed by zeros.
      const spread = tf.pad(tf.reshape(dy, [n, oh, 1, ow, 1, co]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
      d = tf.reshape(spread, [n, oh * sh, ow * sw, co]);
    }
    // Input pixel i receives dy[o] * w[k] for i + pad = o * s + k; as a correlation over the flipped filter the
    // zero-inserted gradient needs (k - 1 - pad) in front and enough behind for exactly h outputs.
    const padTop = kh - 1 - top;
    const padLeft = kw - 1 - left;
    const padBottom = h + kh - 1 - padTop - d.shape[1];
    const padRight = w + kw - 1 - padLeft - d.shape[2];
    // Negative padding means cropping ('valid' convolutions with trailing unread input, or 'same' with odd sizes).
    if (padBottom < 0 || padRight < 0) d = tf.slice(d, [0, 0, 0, 0], [-1, d.shape[1] + Math.min(0, padBottom), d.shape[2] + Math.min(0, padRight), -1]);
    d = tf.pad(d, [[0, 0], [Math.max(0, padTop), Math.max(0, padBottom)], [Math.max(0, padLeft), Math.max(0, padRight)], [0, 0]]);
    if (padTop < 0 || padLeft < 0) d = tf.slice(d, [0, Math.max(0, -padTop), Math.max(0, -padLeft), 0], [-1, -1, -1, -1]);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(d, flipped, 1, "valid");
  });
}

const registered = new Set<string>();

/**
 * Registers both gradient kernels on a backend ("wasm" by default, where they are needed; "cpu" also profits, as
 * its own filter gradient is an element-by-element loop). Idempotent; may run before the backend starts.
 */
export function registerTrainingKernels(backendName: "wasm" | "cpu" = "wasm"): void {
  if (registered.has(backendName)) return;
  // The wasm package registers its own kernels when first loaded; load it now so ours replace them, not vice versa.
  if (backendName === "wasm") require("@tensorflow/tfjs-backend-wasm");
  for (const kernelName of [tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput]) {
    if (tf.getKernel(kernelName, backendName) !== undefined) tf.unregisterKernel(kernelName, backendName);
  }
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs as { x: tf.Tensor4D; dy: tf.Tensor4D };
      const a = attrs as unknown as ConvGradAttrs & { filterShape: [number, number, number, number] };
      return conv2dFilterGradient(x, dy, a.filterShape, a);
    },
  });
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropInput,
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
      const a = attrs as unknown as ConvGradAttrs & { inputShape: [number, number, number, number] };
      return conv2dInputGradient(a.inputShape, dy, filter, a);
    },
  });
  registered.add(backendName);
}
