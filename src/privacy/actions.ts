import type { Writer } from '../actors/storage-writer/ops.js';
import type { Logger } from '../log.js';
import { InputError } from '../model/errors.js';
import { isPlainObject } from '../model/event.js';
import type { Reader } from '../storage/read.js';
import { findForgettable, parseForget } from './forget.js';
import type { Pause } from './pause.js';

/** The control endpoint's privacy actions: POST /api/control/{pause,resume,forget}. */
export function privacyActions(deps: { pause: Pause; read: () => Reader; writer: Writer; log: Logger }): Record<string, (body: unknown) => Promise<unknown>> {
  const { pause, read, writer, log } = deps;
  return {
    async pause(body) {
      const minutes = isPlainObject(body) ? body.minutes : undefined;
      if (minutes !== undefined && minutes !== null && (typeof minutes !== 'number' || !(minutes > 0))) {
        throw new InputError('minutes must be a positive number (or absent: until resumed)');
      }
      const st = pause.pause((minutes as number | undefined) ?? null);
      log.info(st, 'recording paused');
      return st;
    },
    async resume() {
      log.info('recording resumed');
      return pause.resume();
    },
    async forget(body) {
      const req = parseForget(body);
      const found = findForgettable(read(), req);
      if (req.dryRun) return { dry_run: true, matched: found.ids.length, buckets: found.perBucket };
      const { deleted } = await writer.submit({ kind: 'deleteEvents', ids: found.ids });
      log.info({ deleted, buckets: found.perBucket }, 'forgot events');
      return { dry_run: false, matched: found.ids.length, deleted, buckets: found.perBucket };
    },
  };
}
