import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { createLogger } from '../../lib/log.js';
import { CONSOLE_PATH, CONSOLE_VIEWS, isConsoleView } from '../console/views.js';
import { ResourceRouter } from '../openapi/route.js';
import { notFound, ProblemError } from '../problem.js';

/**
 * The operator console: one HTML page for every view (`/console`, `/console/{view}`, so deep
 * links and reloads work) and its hashed assets, all from the bundle `api/console/build.ts`
 * writes (`api/console/dist`; in the image `dist/api/console/dist`). Files are
 * read per request: the console's traffic is a person's clicks, and a rebuild is then served
 * without a restart. A missing bundle answers 503 naming the build command; the API runs on.
 *
 * Every answer carries a Content-Security-Policy that allows scripts, styles, images and
 * connections from this origin only and no inline code, so the page cannot load or send anything
 * elsewhere, whatever it contains.
 */

const log = createLogger('api.console');
const TAG = 'console';
/** Where the build writes the bundle, relative to this file in the source tree and in the image. */
export const CONSOLE_DIST = fileURLToPath(new URL('../console/dist/', import.meta.url));

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  // The page never turns strings into code or markup (no innerHTML): make the browser refuse it.
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

export const CONSOLE_BUILD_COMMAND = 'make console';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
/** An asset name as the build writes them: no directory part, a known extension. */
const ASSET_NAME = /^[A-Za-z0-9_-]+(?:-[A-Z0-9]{8})?\.(?:js|css|svg)$/;
/** esbuild's content hash in a name (`main-7KX2QJ4T.js`): such a file never changes. */
const HASHED = /-[A-Z0-9]{8}\.[a-z]+$/;

const securityHeaders: Middleware = async (ctx, next) => {
  ctx.set({ 'Content-Security-Policy': CONSOLE_CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
  await next();
};

async function readIfPresent(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

let warnedMissing = false;
function notBuilt(dist: string): ProblemError {
  if (!warnedMissing) {
    warnedMissing = true;
    log.warn({ dist, build: CONSOLE_BUILD_COMMAND }, 'the console is not built; /console answers 503');
  }
  return new ProblemError(503, 'Service Unavailable', `the console is not built: run \`${CONSOLE_BUILD_COMMAND}\` (or \`npx tsx api/console/build.ts\`) where the API runs, then reload`);
}

async function sendPage(ctx: Context, dist: string): Promise<void> {
  const html = await readIfPresent(path.join(dist, 'index.html'));
  if (!html) throw notBuilt(dist);
  ctx.type = 'text/html; charset=utf-8';
  // Always revalidated: it names the current build's hashed assets.
  ctx.set('Cache-Control', 'no-cache');
  ctx.body = html;
}

const html = { description: 'The console page (the same for every view; the view renders from the URL).', contentType: 'text/html' };
const missing = { description: 'The console is not built; `detail` names the build command.' };

/** `dist`: the bundle's directory (tests point it elsewhere). */
export function consoleRouter(dist = CONSOLE_DIST): ResourceRouter {
  const resource = new ResourceRouter();
  resource.add(
    {
      method: 'get',
      path: CONSOLE_PATH,
      operationId: 'consolePage',
      tag: TAG,
      summary: 'The operator console (its overview); it reads only the routes of this document',
      responses: { 200: html, 503: missing },
    },
    (ctx) => sendPage(ctx, dist),
    securityHeaders,
  );
  resource.add(
    {
      method: 'get',
      path: `${CONSOLE_PATH}/:view`,
      operationId: 'consoleView',
      tag: TAG,
      summary: 'One view of the console, as a deep link (its state is in the query string)',
      params: z.strictObject({ view: z.string().describe(`One of: ${CONSOLE_VIEWS.join(', ')}.`) }),
      responses: { 200: html, 404: { description: 'No such view.' }, 503: missing },
    },
    async (ctx, { params }) => {
      if (!isConsoleView(params.view)) throw notFound(`the console has no view "${params.view}" (views: ${CONSOLE_VIEWS.join(', ')})`);
      await sendPage(ctx, dist);
    },
    securityHeaders,
  );
  resource.add(
    {
      method: 'get',
      path: `${CONSOLE_PATH}/assets/:file`,
      operationId: 'consoleAsset',
      tag: TAG,
      summary: "The console's script, stylesheet and icon (gzip when accepted; hashed names cached for a year)",
      params: z.strictObject({ file: z.string().describe('A file name from the page.') }),
      responses: {
        200: { description: 'The file.', contentType: ['text/javascript', 'text/css', 'image/svg+xml'] },
        404: { description: 'No such file in the current build.' },
        503: missing,
      },
    },
    async (ctx, { params }) => {
      const name = params.file;
      if (!ASSET_NAME.test(name)) throw notFound(`the console has no asset "${name}"`);
      const file = path.join(dist, 'assets', name);
      const gzipped = ctx.acceptsEncodings('gzip', 'identity') === 'gzip' ? await readIfPresent(`${file}.gz`) : undefined;
      const body = gzipped ?? (await readIfPresent(file));
      if (!body) {
        if (!(await readIfPresent(path.join(dist, 'index.html')))) throw notBuilt(dist);
        throw notFound(`the console has no asset "${name}" (a page from an older build? reload it)`);
      }
      ctx.type = CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream';
      ctx.set('Vary', 'Accept-Encoding');
      if (gzipped) ctx.set('Content-Encoding', 'gzip');
      ctx.set('Cache-Control', HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'public, max-age=86400');
      ctx.body = body;
    },
    securityHeaders,
  );
  return resource;
}
