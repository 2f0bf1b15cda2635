import type { IncomingMessage, ServerResponse } from 'node:http';
import { controlSessions } from './session.js';
import { tokenMatches } from './token.js';

/** What the control endpoint can see and do; the daemon provides it. */
export interface ControlTarget {
  status(): Record<string, unknown>;
  children: {
    restart(name: string): Promise<void>;
    stop(name: string): Promise<void>;
    start(name: string): Promise<void>;
    has(name: string): boolean;
  };
  /** Extra POST actions (pause, resume, forget ...): name → handler of the JSON body. */
  actions?: Record<string, (body: unknown) => Promise<unknown>>;
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
};

async function readJson(req: IncomingMessage, limit = 1 << 20): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw Object.assign(new Error('body is not valid JSON'), { status: 400 });
  }
}

/**
 * `/api/control/...`: status and operator actions for the local CLI and the daemon's own web UI.
 * Every request needs the bearer token from the 0600 token file, or a session cookie the web UI got
 * from `POST /api/control/session` (see session.ts). The HTTP layer has already checked the Host
 * header, refuses every Origin but the daemon's own and never grants CORS here, so other pages
 * cannot reach it.
 */
export function createControlHandler(target: ControlTarget, token: string) {
  const sessions = controlSessions();
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (req.method === 'POST' && path === '/api/control/session') return sessions.issue(req, res);
    if (!tokenMatches(req.headers.authorization, token) && !sessions.allows(req)) {
      send(res, 401, { message: 'control endpoint needs the bearer token from the control-token file' });
      return true;
    }
    const parts = path.split('/').filter(Boolean); // ['api', 'control', ...]
    const rest = parts.slice(2);
    try {
      if (req.method === 'GET' && rest.length === 1 && rest[0] === 'status') {
        send(res, 200, target.status());
        return true;
      }
      if (req.method === 'POST' && rest.length === 3 && rest[0] === 'children') {
        const [, name, action] = rest as [string, string, string];
        if (!target.children.has(name)) {
          send(res, 404, { message: `no child named '${name}'` });
          return true;
        }
        if (action !== 'restart' && action !== 'stop' && action !== 'start') {
          send(res, 404, { message: `unknown action '${action}' (restart, stop, start)` });
          return true;
        }
        await target.children[action](name);
        send(res, 200, { ok: true, child: name, action });
        return true;
      }
      if (req.method === 'POST' && rest.length === 1 && target.actions?.[rest[0]!]) {
        send(res, 200, await target.actions[rest[0]!]!(await readJson(req)));
        return true;
      }
      send(res, 404, { message: `unknown control request ${req.method} ${path}` });
    } catch (err) {
      const status = (err as { status?: number }).status;
      send(res, status && status >= 400 && status < 500 ? status : 500, { message: (err as Error).message });
    }
    return true;
  };
}
