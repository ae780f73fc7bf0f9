/**
 * Builds the console (console/src → console/dist) with esbuild: one bundled, minified script with
 * Preact and ECharts inside (no CDN: it works offline), its stylesheet and index.html. `npm run
 * console:build` runs it; `npm start` and the browser tests build before serving.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the built console is served from. */
export const consoleDistDir = (): string => resolve(here, 'dist');

export async function buildConsole(): Promise<string> {
  const out = consoleDistDir();
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(here, 'src', 'main.tsx')],
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outfile: join(out, 'app.js'),
    logLevel: 'warning',
    legalComments: 'none',
  });
  copyFileSync(join(here, 'src', 'index.html'), join(out, 'index.html'));
  copyFileSync(join(here, 'src', 'app.css'), join(out, 'app.css'));
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildConsole();
  process.stdout.write(`console built into ${out}\n`);
}
