/** Progress reporting shared by every long operation: the library reports, the caller decides how to show it. */
export interface ProgressEvent {
  /** What is running, e.g. "download cifar10" or "extract resnet20/test". */
  stage: string;
  done: number;
  total: number;
  /** Unit of done/total, e.g. "bytes" or "images". */
  unit?: string;
}

export type Progress = (event: ProgressEvent) => void;

export const silentProgress: Progress = () => {};
