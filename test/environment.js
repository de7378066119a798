/**
 * Jest environment for every test (several reach onnxruntime-node through the engines). The native binding creates output typed arrays in
 * Node's main realm, while jest evaluates onnxruntime-common inside a vm context whose Float32Array is a
 * different constructor, so its `instanceof` check rejects every output. Sharing the main realm's typed
 * array constructors with the test context makes both sides agree.
 */
const { TestEnvironment } = require("jest-environment-node");

const TYPED_ARRAYS = [
  "ArrayBuffer", "Float32Array", "Float64Array", "Int8Array", "Int16Array", "Int32Array", "BigInt64Array",
  "Uint8Array", "Uint8ClampedArray", "Uint16Array", "Uint32Array", "BigUint64Array",
];

class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxRuntimeEnvironment;
