import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Serves the web UI: files from one folder at `/`, and for any other path that is not a file the
 * folder's index.html (the UI routes in the browser). Hashed build assets (`/assets/...`) never change,
 * so browsers keep them for a year; index.html is revalidated on every load so a new build shows at once.
 */

/** Our own build (`vite build` → dist/web); this file sits three levels below the package root in src/ and dist/. */
export const BUILTIN_UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Headers every UI file carries: no sniffing, no framing by other sites, nothing loaded from elsewhere. */
const SECURITY: http.OutgoingHttpHeaders = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

export type StaticHandler = (req: http.IncomingMessage, res: http.ServerResponse, segs: string[]) => Promise<boolean>;

/**
 * Returns false when the request is not ours (not GET/HEAD). `segs` are the decoded path segments;
 * a segment that tries to leave the folder (`..`, a separator, NUL) is never joined to it.
 */
export function staticHandler(dir: string): StaticHandler {
  const root = path.resolve(dir);
  return async (req, res, segs) => {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return false;
    const safe = segs.every((s) => s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\\') && !s.includes('\0'));
    let file = safe && segs.length > 0 ? path.join(root, ...segs) : null;
    let stat = file ? await statFile(file) : null;
    let fallback = false;
    if (!stat) {
      // Missing files under assets/ (or with an extension) are real 404s, not pages: a stale hashed
      // asset answered with HTML would fail confusingly in the browser.
      const last = segs[segs.length - 1] ?? '';
      if (segs.length > 0 && (segs[0] === 'assets' || /\.[a-z0-9]+$/i.test(last))) return notFound(res);
      file = path.join(root, 'index.html');
      stat = await statFile(file);
      fallback = true;
      if (!stat) return missingUi(res, root);
    }
    const ext = path.extname(file!).toLowerCase();
    const type = TYPES[ext] ?? 'application/octet-stream';
    const hashed = !fallback && segs[0] === 'assets';
    const headers: http.OutgoingHttpHeaders = {
      ...SECURITY,
      'Content-Type': type,
      'Content-Length': stat.size,
      'Cache-Control': hashed ? IMMUTABLE : 'no-cache',
      'Last-Modified': stat.mtime.toUTCString(),
    };
    if (!hashed) {
      const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
      headers.ETag = etag;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ...SECURITY, ETag: etag, 'Cache-Control': 'no-cache' });
        res.end();
        return true;
      }
    }
    res.writeHead(200, headers);
    if (method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((resolve) => {
      const s = fs.createReadStream(file!);
      s.on('error', () => {
        res.destroy();
        resolve();
      });
      s.on('end', resolve);
      s.pipe(res);
    });
    return true;
  };
}

async function statFile(file: string): Promise<fs.Stats | null> {
  try {
    const st = await fs.promises.stat(file);
    return st.isFile() ? st : null;
  } catch {
    return null;
  }
}

function notFound(res: http.ServerResponse): true {
  const body = 'not found\n';
  res.writeHead(404, { ...SECURITY, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-cache' });
  res.end(body);
  return true;
}

/** No build there (e.g. a checkout where `npm run build` has not run): say so instead of a bare 404. */
function missingUi(res: http.ServerResponse, root: string): true {
  const body = `<!doctype html><meta charset="utf-8"><title>Sundial</title><p>The web UI is not built: no index.html in ${escapeHtml(root)}. Run <code>npm run build</code>, or set <code>ui.static_dir</code> in the config. The REST API is at <code>/api/0/</code>.</p>\n`;
  res.writeHead(404, { ...SECURITY, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache' });
  res.end(body);
  return true;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
