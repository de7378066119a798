/** Retraining after decomposition: full fine-tune with the masked head, head-only retraining, and the kernels training needs. */
export { ADAM_DEFAULTS, type AdamOptions, type AdamState, adamStep, createAdamState } from "./adam";
export {
  type BatchLog,
  type EpochLog,
  type FineTuneHistory,
  type FineTuneOptions,
  type FineTuneResult,
  type SavedModelMeta,
  fineTune,
  fineTuneCheckpointPath,
  loadFineTuned,
  saveFineTuned,
} from "./fine-tune";
export {
  type EvaluationImages,
  type LabelledFiles,
  type TrainingImages,
  decomposedTestAccuracy,
  fileEvaluation,
  fileTraining,
  inMemoryEvaluation,
  inMemoryTraining,
} from "./images";
export { FasterChoice, type FasterChoiceOptions } from "./faster-choice";
export { type HeadRetrainOptions, type HeadRetrainResult, type LabelledFeatures, retrainHead } from "./head";
export { BN_MOMENTUM, decomposedStateDict, headLayer, headMask, trainableNames, updateRunningStats } from "./params";
export { type TensorFile, decodeTensorFile, encodeTensorFile, readTensorFile, writeTensorFile } from "../artifacts/tensor-file";
export { type BatchStats, type TrainStepResult, batchNormTrain, maskedHeadLogits, maskedLinear, tfjsTrainStep } from "./tfjs-train-step";
export { activationShapes, exportTrainingGraph } from "./onnx-train-graph";
export { type TrainEngine, type TrainEngineChoice, type TrainEngineOptions, TRAIN_ENGINE_CHOICES, createTrainEngine, trainEngineFromEnv } from "./train-engine";
export { conv2dFilterGradient, conv2dInputGradient, registerTrainingKernels } from "./wasm-kernels";
export {
  type CsgEpochLog,
  type CsgHistory,
  type CsgHyperparameters,
  type CsgOptimiser,
  type CsgOptions,
  type CsgPath,
  type CsgResult,
  type CsgStart,
  type LearnableModules,
  type SavedCsgMeta,
  type CsgStepResult,
  csgCheckpointPath,
  csgStep,
  csgDefaults,
  isCsgEpoch,
  learnableNames,
  loadCsg,
  parameterModules,
  pathLr,
  resolveCsgHyperparameters,
  resolveCsgOptions,
  saveCsg,
  trainCsg,
} from "./csg";
export { initialStateDict } from "./init";
export { SGD_DEFAULTS, type SgdOptions, sgdStep } from "./sgd";
