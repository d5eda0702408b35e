/** Shapes shared by every stage: a labelled set of images, stored channels-last, values in [0, 1]. */
export type InputShape = readonly [height: number, width: number, channels: number];

export interface LabeledSet {
  /** count * height * width * channels values, channels last. */
  readonly x: Float32Array;
  /** count labels in [0, numClasses). */
  readonly y: Int32Array;
  readonly count: number;
  readonly inputShape: InputShape;
  readonly numClasses: number;
}

export const inputSize = (shape: InputShape): number => shape[0] * shape[1] * shape[2];
