// How every function is bundled, shared by the stack (infra/functions.ts passes it to SST) and by
// `npm run build` (infra/build.ts passes it to esbuild), so that what is measured is what deploys.
// Free of SST globals.

export const Bundle = {
  /** Lambda's runtime; SST derives the esbuild target from it, infra/build.ts uses `node22`. */
  runtime: "nodejs22.x",
  esbuildTarget: "node22",
  format: "esm",
  minify: true,
  /**
   * Dynamic imports become chunks that load only when reached. The AWS SDK's default credential
   * chain imports its SSO, INI, process and web-identity providers (and the STS/SSO clients they
   * use, ~140 KB) dynamically; on Lambda the credentials are in the environment, so those chunks
   * never load and stay out of the cold start.
   */
  splitting: true,
  /**
   * SST's default is true: it keeps function and class `.name`s through minification, at ~8% of the
   * bundle. Nothing here depends on them (the SDK names its errors explicitly; checked in
   * @smithy/core, @aws-sdk/core, @bufbuild/protobuf and our code), so it is off.
   */
  keepNames: false,
  /** The AWS SDK is bundled, not taken from the runtime: see infra/DEPLOYING.md, "Bundles". */
  external: [] as string[],
} as const;
