/**
 * The geometric part of a model's input preprocessing, on 8-bit RGB images before normalisation: nothing
 * (CIFAR models on CIFAR images), torchvision's evaluation preset (shorter side resized, centre crop), or the
 * paper authors' squash to a fixed size without a crop.
 */
import { centerOffset, type Interpolation, resizeImage, shorterSideSize } from "./resize";

export type Recipe =
  | { kind: "native" }
  | { kind: "resize-crop"; resize: number; crop: number; interpolation: Interpolation }
  | { kind: "squash"; size: number; interpolation: Interpolation };

/** Short stable text for cache keys and reports, e.g. "resize256-crop224-bilinear". */
export function recipeId(recipe: Recipe): string {
  if (recipe.kind === "native") return "native";
  if (recipe.kind === "squash") return `squash${recipe.size}-${recipe.interpolation}`;
  return `resize${recipe.resize}-crop${recipe.crop}-${recipe.interpolation}`;
}

/** Side of the square image the recipe produces from a height x width one. */
export function recipeOutputSide(recipe: Recipe, height: number, width: number): number {
  if (recipe.kind === "squash") return recipe.size;
  if (recipe.kind === "resize-crop") return recipe.crop;
  if (height !== width) throw new Error(`native preprocessing keeps the image as it is, and a ${height} x ${width} image is not square`);
  return height;
}

/** One interleaved RGB image through the recipe. */
export function preprocessImage(src: Uint8Array, height: number, width: number, recipe: Recipe): Uint8Array {
  if (recipe.kind === "native") return src;
  if (recipe.kind === "squash") return resizeImage(src, height, width, 3, recipe.size, recipe.size, recipe.interpolation);
  const [h, w] = shorterSideSize(height, width, recipe.resize);
  if (recipe.crop > h || recipe.crop > w) throw new Error(`a ${recipe.crop} x ${recipe.crop} crop does not fit the ${h} x ${w} resized image`);
  // Only the crop is computed: the same bytes as resizing the whole image and cropping it.
  const window = { top: centerOffset(h, recipe.crop), left: centerOffset(w, recipe.crop), height: recipe.crop, width: recipe.crop };
  return resizeImage(src, height, width, 3, h, w, recipe.interpolation, window);
}

/** `count` equally sized images through the recipe, concatenated. */
export function preprocessBatch(pixels: Uint8Array, count: number, height: number, width: number, recipe: Recipe): Uint8Array {
  if (recipe.kind === "native") return pixels;
  const side = recipeOutputSide(recipe, height, width);
  const inBytes = height * width * 3;
  const outBytes = side * side * 3;
  const out = new Uint8Array(count * outBytes);
  for (let i = 0; i < count; i++) out.set(preprocessImage(pixels.subarray(i * inBytes, (i + 1) * inBytes), height, width, recipe), i * outBytes);
  return out;
}
