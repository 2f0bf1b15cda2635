import path from 'node:path';
import { parseBucketSpec, type Bucket } from '../../model/bucket.js';
import { InputError } from '../../model/errors.js';
import { isPlainObject, parseEvent, type Event } from '../../model/event.js';
import { nowMicros, parseTimestamp } from '../../model/time.js';
import { checkDeclaredLength, checkDepth, IMPORT_BODY_LIMIT, mediaType } from '../body.js';
import { sendEmpty } from '../respond.js';
import { ImportParser, type ImportItem } from '../stream/import-parser.js';
import { boundaryOf, MultipartParser } from '../stream/multipart.js';
import { Spool } from '../stream/spool.js';
import type { ApiDeps, Ctx } from './context.js';

/** Events per write op while importing: big enough to amortise commits, small enough to stay light. */
export const IMPORT_BATCH = 2000;

export interface ImportSummary {
  buckets: number;
  inserted: number;
  skipped: number;
}

/**
 * POST /api/0/import: an export document as JSON, or multipart/form-data with any number of file parts
 * (the web UI names its part `buckets.json`; every part with a filename, or named `buckets`/`buckets.json`,
 * is imported). The body is spooled (memory, then a temp file next to the database) while a first pass
 * checks it completely; only a valid document is imported, in a second pass, in batches. So a malformed
 * upload changes nothing, and memory stays small whatever the size.
 */
export async function importRoute(ctx: Ctx): Promise<void> {
  const type = mediaType(ctx.req);
  if (type !== 'application/json' && type !== 'multipart/form-data') {
    throw new InputError('Content-Type must be application/json or multipart/form-data', 415);
  }
  checkDeclaredLength(ctx.req, IMPORT_BODY_LIMIT);
  const dir = ctx.deps.reader.db.memory ? undefined : path.dirname(ctx.deps.reader.db.name);
  const spools: Spool[] = [];
  try {
    if (type === 'application/json') {
      const spool = new Spool(dir ?? '.');
      spools.push(spool);
      const check = new Importer(ctx.deps, false);
      await readLimited(ctx, async (chunk) => {
        await spool.write(chunk);
        await check.feed(chunk);
      });
      await check.finish();
    } else {
      const boundary = boundaryOf(ctx.req.headers['content-type']);
      if (!boundary) throw new InputError('multipart/form-data without a boundary', 400);
      const mp = new MultipartParser(boundary);
      let spool: Spool | null = null;
      let check: Importer | null = null;
      const onItems = async (items: ReturnType<MultipartParser['write']>) => {
        for (const it of items) {
          if (it.kind === 'part') {
            const wanted = it.filename !== null || it.name === 'buckets' || it.name === 'buckets.json';
            if (wanted) {
              spools.push((spool = new Spool(dir ?? '.')));
              check = new Importer(ctx.deps, false);
            }
          } else if (it.kind === 'data') {
            if (spool && check) {
              await spool.write(it.data);
              await check.feed(it.data);
            }
          } else if (check) {
            await check.finish();
            spool = null;
            check = null;
          }
        }
      };
      await readLimited(ctx, (chunk) => onItems(mp.write(chunk)));
      await onItems(mp.end());
      if (spools.length === 0) throw new InputError('multipart upload contains no file to import', 400);
    }
    const total: ImportSummary = { buckets: 0, inserted: 0, skipped: 0 };
    for (const spool of spools) {
      const imp = new Importer(ctx.deps, true);
      for await (const chunk of spool.read()) await imp.feed(chunk);
      const s = await imp.finish();
      total.buckets += s.buckets;
      total.inserted += s.inserted;
      total.skipped += s.skipped;
    }
    ctx.deps.log.info(total, 'import done');
    sendEmpty(ctx.res, 200);
  } finally {
    await Promise.all(spools.map((s) => s.dispose()));
  }
}

async function readLimited(ctx: Ctx, onChunk: (chunk: Buffer) => Promise<void>): Promise<void> {
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > IMPORT_BODY_LIMIT) throw new InputError(`import is larger than ${IMPORT_BODY_LIMIT} bytes`, 413);
    await onChunk(chunk);
  }
}

interface CurrentBucket {
  key: string;
  header: Record<string, unknown>;
  spec: Bucket | null;
  /** 'new': created by this import, events appended as they are; 'merge': existing, duplicates skipped. */
  mode: 'new' | 'merge' | null;
  /** Events seen before the header was complete (only for documents with `events` before `type` etc.). */
  batch: Event[];
}

/**
 * Consumes one document. With `apply` false it only checks it (syntax, shapes, bucket headers);
 * with `apply` true it writes it through the storage writer.
 */
export class Importer {
  private readonly parser = new ImportParser();
  private cur: CurrentBucket | null = null;
  private readonly summary: ImportSummary = { buckets: 0, inserted: 0, skipped: 0 };
  private reported = 0;

  constructor(
    private readonly deps: ApiDeps,
    private readonly apply: boolean,
  ) {}

  async feed(chunk: Buffer): Promise<void> {
    for (const it of this.parser.write(chunk)) await this.item(it);
  }

  async finish(): Promise<ImportSummary> {
    for (const it of this.parser.end()) await this.item(it);
    return this.summary;
  }

  private async item(it: ImportItem): Promise<void> {
    switch (it.kind) {
      case 'bucket':
        this.cur = { key: it.key, header: {}, spec: null, mode: null, batch: [] };
        return;
      case 'field': {
        const cur = this.cur!;
        if (it.key === 'events') {
          if (it.value !== null) throw new InputError(`import: bucket '${cur.key}': events must be a list`, 422);
          return;
        }
        checkDepth(it.value, undefined, `import: bucket '${cur.key}'.${it.key}`);
        cur.header[it.key] = it.value;
        return;
      }
      case 'events': {
        const cur = this.cur!;
        if (headerComplete(cur.header)) await this.resolve(cur);
        return;
      }
      case 'event': {
        const cur = this.cur!;
        let e: Event;
        try {
          checkDepth(it.value);
          e = parseEvent(it.value, { where: `bucket '${cur.key}' event` }); // ids are dropped
        } catch {
          this.summary.skipped++; // as the reference: an unparseable event is skipped, the rest imported
          return;
        }
        if (!this.apply) return;
        cur.batch.push(e);
        if (cur.batch.length >= IMPORT_BATCH && cur.spec) await this.flush(cur);
        return;
      }
      case 'bucketEnd': {
        const cur = this.cur!;
        if (!cur.spec) await this.resolve(cur);
        await this.flush(cur);
        this.summary.buckets++;
        this.cur = null;
        return;
      }
    }
  }

  /** Validates the bucket header and, when applying, creates the bucket or decides to merge into it. */
  private async resolve(cur: CurrentBucket): Promise<void> {
    const h = cur.header;
    // The reference uses the bucket's own `id` field; we fall back to the map key when it is missing.
    const id = typeof h.id === 'string' && h.id !== '' ? h.id : cur.key;
    try {
      cur.spec = parseBucketSpec(id, h, nowMicros(), (v) => parseTimestamp(v, 'created'));
    } catch (err) {
      if (err instanceof InputError) throw new InputError(`import: bucket '${id}': ${err.message}`, err.status);
      throw err;
    }
    if (!this.apply) return;
    if (this.deps.reader.bucket(id)) {
      cur.mode = 'merge';
      return;
    }
    const { created } = await this.deps.writer.submit({ kind: 'createBucket', bucket: cur.spec });
    cur.mode = created ? 'new' : 'merge';
  }

  private async flush(cur: CurrentBucket): Promise<void> {
    if (!this.apply || cur.batch.length === 0) return;
    const events = cur.batch;
    cur.batch = [];
    if (cur.mode === 'new') {
      await this.deps.writer.submit({ kind: 'insertEvents', bucket: cur.spec!.id, events });
      this.summary.inserted += events.length;
    } else {
      const r = await this.deps.writer.submit({ kind: 'importEvents', bucket: cur.spec!.id, events });
      this.summary.inserted += r.inserted;
    }
    // Long work shows progress: a line per 100k events stored.
    if (Math.floor(this.summary.inserted / PROGRESS_EVERY) > this.reported) {
      this.reported = Math.floor(this.summary.inserted / PROGRESS_EVERY);
      this.deps.log.info({ bucket: cur.spec!.id, inserted: this.summary.inserted }, 'importing');
    }
  }
}

const PROGRESS_EVERY = 100_000;

const headerComplete = (h: Record<string, unknown>): boolean =>
  typeof h.type === 'string' && typeof h.client === 'string' && typeof h.hostname === 'string' && isPlainObjectOrAbsent(h.data);

const isPlainObjectOrAbsent = (v: unknown) => v === undefined || v === null || isPlainObject(v);
