// stream-json 3 and stream-chain 4 publish their modules through `exports` subpaths ("./*": "./src/*"), which this
// project's `moduleResolution: "node"` does not read. These declarations point the subpaths document-stream.ts imports
// at the typings the packages ship; at run time Node, tsx and esbuild resolve the subpaths themselves.
declare module "stream-json/core/parser.js" {
  export * from "stream-json/src/core/parser.js";
}
declare module "stream-json/core/assembler.js" {
  export * from "stream-json/src/core/assembler.js";
}
declare module "stream-chain/defs.js" {
  export * from "stream-chain/src/defs.js";
}
