/**
 * Builds the operator console (`make console`; also part of `make install` and of the API image's
 * build stage): bundles `src/main.tsx` and its CSS with esbuild, minified, into `dist/assets/`
 * under content-hashed names (so the API can let browsers cache them for a year), writes
 * `dist/index.html` naming them, a gzip copy of each asset (served when the browser accepts it),
 * and `dist/manifest.json` with every file's size. Prints the sizes and fails when the page's
 * JavaScript and CSS together exceed the budget below once gzipped.
 *
 * The build lands in a fresh directory that replaces `dist/` only when complete, so a running API
 * never serves half a build.
 *
 * Usage: npx tsx api/console/build.ts
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { CONSOLE_PATH } from './views.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CONSOLE_DIST = path.join(HERE, 'dist');

/**
 * Budget for what a first visit downloads (JavaScript + CSS, gzipped). Preact and its hooks are
 * about 6.6 KiB of it; the views, the chart and the API client the rest. A bundle past this has
 * taken in a library it should not have.
 */
export const GZIP_BUDGET_BYTES = 32 * 1024;

/** One built file and its sizes. */
export interface BuiltFile {
  name: string;
  bytes: number;
  gzipBytes: number;
}

export interface ConsoleManifest {
  /** Asset file names under dist/assets, as index.html names them. */
  script: string;
  stylesheet: string;
  files: BuiltFile[];
  /** JavaScript + CSS, raw and gzipped: what a first visit downloads besides index.html. */
  pageBytes: number;
  pageGzipBytes: number;
}

// A small icon, so the browser's automatic /favicon.ico request has an answer from this origin.
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#17457a"/><path d="M7 22V12l9-5 9 5v10h-5v-6h-8v6z" fill="#fff"/></svg>`;

function indexHtml(script: string, stylesheet: string): string {
  const asset = (name: string) => `${CONSOLE_PATH}/assets/${name}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Console · Warehouse stock monitor</title>
<link rel="icon" href="${asset('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${asset(stylesheet)}">
<script type="module" src="${asset(script)}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the console…</p></div>
<noscript><p class="boot">The console needs JavaScript. The same data is in the API: <a href="/docs">/docs</a>.</p></noscript>
</body>
</html>
`;
}

export async function buildConsole(options: { log?: (line: string) => void } = {}): Promise<ConsoleManifest> {
  const log = options.log ?? ((line: string) => console.log(line));
  const staging = `${CONSOLE_DIST}.building-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  const assets = path.join(staging, 'assets');
  await mkdir(assets, { recursive: true });
  try {
    const result = await esbuild.build({
      entryPoints: [path.join(HERE, 'src/main.tsx')],
      bundle: true,
      minify: true,
      format: 'esm',
      // Browsers of the last few years: what `<script type="module">` already implies, plus
      // the syntax they all parse, so esbuild keeps modern syntax as written.
      target: ['chrome111', 'firefox115', 'safari16.4'],
      jsx: 'automatic',
      jsxImportSource: 'preact',
      outdir: assets,
      entryNames: '[name]-[hash]',
      metafile: true,
      legalComments: 'none',
      logLevel: 'warning',
    });
    const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
    const script = outputs.find((name) => name.endsWith('.js'));
    const stylesheet = outputs.find((name) => name.endsWith('.css'));
    if (!script || !stylesheet) throw new Error(`esbuild wrote ${outputs.join(', ')}: expected one .js and one .css`);
    await writeFile(path.join(assets, 'favicon.svg'), FAVICON);
    await writeFile(path.join(staging, 'index.html'), indexHtml(script, stylesheet));

    const files: BuiltFile[] = [];
    for (const name of [script, stylesheet, 'favicon.svg']) {
      const body = await readFile(path.join(assets, name));
      const gzipped = gzipSync(body, { level: 9 });
      await writeFile(path.join(assets, `${name}.gz`), gzipped);
      files.push({ name, bytes: body.length, gzipBytes: gzipped.length });
    }
    const html = await stat(path.join(staging, 'index.html'));
    files.push({ name: 'index.html', bytes: html.size, gzipBytes: gzipSync(await readFile(path.join(staging, 'index.html'))).length });
    const page = files.filter((f) => f.name === script || f.name === stylesheet);
    const manifest: ConsoleManifest = {
      script,
      stylesheet,
      files,
      pageBytes: page.reduce((sum, f) => sum + f.bytes, 0),
      pageGzipBytes: page.reduce((sum, f) => sum + f.gzipBytes, 0),
    };
    await writeFile(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

    const width = Math.max(...files.map((f) => f.name.length));
    for (const f of files) log(`  ${f.name.padEnd(width)}  ${String(f.bytes).padStart(7)} bytes  ${String(f.gzipBytes).padStart(6)} gzip`);
    log(`console: JavaScript + CSS ${manifest.pageBytes} bytes, ${manifest.pageGzipBytes} gzipped (budget ${GZIP_BUDGET_BYTES}) -> ${path.relative(process.cwd(), CONSOLE_DIST)}`);
    if (manifest.pageGzipBytes > GZIP_BUDGET_BYTES) {
      throw new Error(`the console's JavaScript + CSS is ${manifest.pageGzipBytes} bytes gzipped, over its budget of ${GZIP_BUDGET_BYTES}`);
    }
    await rm(CONSOLE_DIST, { recursive: true, force: true });
    await rename(staging, CONSOLE_DIST);
    return manifest;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildConsole().catch((error: unknown) => {
    console.error(`console build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
