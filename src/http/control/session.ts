import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sameOrigin } from '../gate.js';
import { sendJson } from '../respond.js';

/**
 * Control rights for the web UI without handing it the bearer token. The UI asks
 * `POST /api/control/session`; a request from the daemon's own origin on a loopback Host gets a random
 * session id in a cookie that scripts cannot read (HttpOnly) and that is sent only to /api/control.
 * Cookies are shared by every port of a host (SameSite counts 127.0.0.1:9999 as the same site), so the
 * cookie alone proves nothing: every request it authorises must also come from our own origin, which
 * the browser states in Origin / Sec-Fetch-Site and a page cannot forge.
 */

/**
 * Cookies are shared by every port of a host, so each daemon (5600, 5666 with --testing, ...) names its
 * cookie after its port; otherwise two daemons' pages would keep overwriting each other's session.
 */
const cookieName = (req: IncomingMessage): string => `sundial_control_${/:(\d+)$/.exec(req.headers.host ?? '')?.[1] ?? '80'}`;
/** Enough for every open tab; the oldest session goes first. */
const MAX_SESSIONS = 64;

export interface ControlSessions {
  /** Answers POST /api/control/session; returns false when it is not that request. */
  issue(req: IncomingMessage, res: ServerResponse): boolean;
  /** Does this request carry a live session cookie and come from our own origin? */
  allows(req: IncomingMessage): boolean;
}

export function controlSessions(): ControlSessions {
  const live = new Set<string>();
  return {
    issue(req, res) {
      if (!fromOwnPage(req, true)) {
        send(res, 403, { message: 'a control session is only given to pages served by this daemon (same origin, loopback host)' });
        return true;
      }
      const id = crypto.randomBytes(32).toString('base64url');
      live.add(id);
      if (live.size > MAX_SESSIONS) live.delete(live.values().next().value!);
      res.setHeader('Set-Cookie', `${cookieName(req)}=${id}; HttpOnly; SameSite=Strict; Path=/api/control`);
      send(res, 200, { ok: true });
      return true;
    },
    allows(req) {
      const id = cookieValue(req.headers.cookie, cookieName(req));
      return id !== null && live.has(id) && fromOwnPage(req, req.method !== 'GET' && req.method !== 'HEAD');
    },
  };
}

/**
 * Same-origin by the browser's own word: Sec-Fetch-Site, when sent, must be `same-origin`; Origin,
 * when sent, must be ours, and it is required where browsers always send it (non-GET requests).
 */
function fromOwnPage(req: IncomingMessage, needOrigin: boolean): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  if (req.headers.origin === undefined) return !needOrigin && site === 'same-origin';
  return sameOrigin(req);
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

const send = (res: ServerResponse, status: number, body: unknown) => sendJson(res, status, body, { 'Cache-Control': 'no-store' });
