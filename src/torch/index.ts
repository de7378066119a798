/** Public surface of the PyTorch checkpoint reader. */
export { loadTorchCheckpoint, readTorchCheckpoint } from "./checkpoint";
export type { NamedTensor, StateDict, TorchCheckpoint } from "./checkpoint";
