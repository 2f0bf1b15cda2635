import type { IncomingMessage, ServerResponse } from 'node:http';
import { Denied, NotFound } from '../../model/errors.js';
import { readJson } from '../body.js';
import { sendError, sendJson } from '../respond.js';
import type { Logger } from '../../log.js';
import type { ControlSessions } from './session.js';

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

export type ControlHandler = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;

const CHILD_ACTIONS = new Set(['restart', 'stop', 'start']);

/** A request with no body at all (curl -X POST) is an empty JSON object. */
const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/**
 * `/api/control/...`: status and operator actions. Who may call is decided by the transport in
 * `authorized`: the unix socket (reachable by the user alone) lets every request through; the HTTP
 * server asks for the bearer token from the 0600 token file and never grants CORS here. Over HTTP the
 * daemon's own web page may instead hold a session (`sessions`, see session.ts).
 */
export function createControlHandler(target: ControlTarget, authorized: (req: IncomingMessage) => boolean, log: Logger, sessions?: ControlSessions): ControlHandler {
  async function dispatch(req: IncomingMessage, res: ServerResponse, rest: string[]): Promise<void> {
    if (req.method === 'GET' && rest.length === 1 && rest[0] === 'status') return sendJson(res, 200, target.status(), { 'Cache-Control': 'no-store' });
    if (req.method === 'POST' && rest.length === 3 && rest[0] === 'children') {
      const [, name, action] = rest as [string, string, string];
      if (!target.children.has(name)) throw new NotFound(`no child named '${name}'`);
      if (!CHILD_ACTIONS.has(action)) throw new NotFound(`unknown action '${action}' (restart, stop, start)`);
      await target.children[action as 'restart' | 'stop' | 'start'](name);
      return sendJson(res, 200, { ok: true, child: name, action });
    }
    const action = rest.length === 1 && req.method === 'POST' ? target.actions?.[rest[0]!] : undefined;
    if (action) return sendJson(res, 200, await action(hasBody(req) ? await readJson(req) : {}));
    throw new NotFound(`unknown control request ${req.method} /api/control/${rest.join('/')}`);
  }

  return async (req, res, path) => {
    try {
      if (sessions && req.method === 'POST' && path === '/api/control/session') return sessions.issue(req, res);
      if (!authorized(req) && !sessions?.allows(req)) throw new Denied('control endpoint needs the bearer token from the control-token file');
      await dispatch(req, res, path.split('/').filter(Boolean).slice(2));
    } catch (err) {
      sendError(res, err, log);
    }
    return true;
  };
}
