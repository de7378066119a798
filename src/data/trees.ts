/** An image tree in any of the layouts the toolkit reads, scanned and checked without decoding an image. */
import { type ImageFolderOptions, scanImageFolder } from "./image-folder";
import { type ImageNetTree, scanImageNet } from "./imagenet";
import { scanTinyImageNet } from "./tiny-imagenet";

/** ILSVRC-2012's layouts, Tiny ImageNet 200's, or ImageFolder's (a dataset of one's own). */
export type TreeLayout = "imagenet" | "tiny-imagenet" | "folder";

export function scanTree(root: string, layout: TreeLayout, folder?: ImageFolderOptions): ImageNetTree {
  if (layout === "folder") return scanImageFolder(root, folder);
  return layout === "tiny-imagenet" ? scanTinyImageNet(root) : scanImageNet(root);
}
