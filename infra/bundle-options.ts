// How every function is bundled, shared by the stack (infra/functions.ts passes it to SST) and by
// `npm run build` (infra/build.ts passes it to esbuild), so that what is measured is what deploys.
// Free of SST globals.

export const Bundle = {
  /** Lambda's runtime; SST derives the esbuild target from it, infra/build.ts uses `node22`. */
  runtime: "nodejs22.x",
  esbuildTarget: "node22",
  format: "esm",
  minify: true,
  /** Dynamic imports become chunks that load only when reached, so they stay out of the cold start. */
  splitting: true,
  /**
   * SST's default is true: it keeps function and class `.name`s through minification, at ~8% of the
   * bundle. Nothing here depends on them (errors are told apart with instanceof, and DynamoDB errors
   * by the exception name DynamoDB sends; checked in @bufbuild/protobuf and our code), so it is off.
   */
  keepNames: false,
  /** Nothing is left to the runtime: the functions have no AWS SDK to leave (infra/DEPLOYING.md, "Bundles"). */
  external: [] as string[],
} as const;
