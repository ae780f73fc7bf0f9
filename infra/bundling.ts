import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/** How every FundGuard function is bundled: ESM for Node 22 with esbuild, no Docker; `afterBundling` adds files. */
export function bundling(afterBundling: (outputDir: string) => string[]): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: 'node22',
    mainFields: ['module', 'main'],
    // Some bundled CommonJS dependencies call require() for Node built-ins, which ESM lacks.
    banner:
      "import { createRequire as __fundguardRequire } from 'node:module'; const require = __fundguardRequire(import.meta.url);",
    // The SDK versions we test against, not whichever the runtime ships.
    bundleAwsSDK: true,
    minify: true,
    sourceMap: true,
    forceDockerBundling: false,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir, outputDir) => afterBundling(outputDir),
    },
  };
}

/** A path quoted for the shell commands of `afterBundling`. */
export const shellQuote = (path: string) => `'${path.replaceAll("'", "'\\''")}'`;
