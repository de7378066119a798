/** The one error shape for checkpoints we cannot read, so callers see what failed and what to do. */
export function unsupportedCheckpoint(what: string): Error {
  return new Error(
    `${what}: this file is not a supported PyTorch checkpoint ` +
      "(expected a state dict saved by torch.save, legacy or zip format; re-save it with torch.save(model.state_dict(), path))",
  );
}
