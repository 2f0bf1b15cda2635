import type http from 'node:http';
import type { Writer } from '../../actors/storage-writer/ops.js';
import type { Logger } from '../../log.js';
import type { QueryService } from '../../query/service.js';
import { InputError, notFound } from '../../model/errors.js';
import type { BucketRow, Reader } from '../../storage/read.js';

export interface ServerInfo {
  hostname: string;
  version: string;
  deviceId: string;
}

/** What the /api/0 handlers need. */
export interface ApiDeps {
  reader: Reader;
  writer: Writer;
  info: ServerInfo;
  testing: boolean;
  /** Only running queries; the owner of the service closes it. */
  query?: Pick<QueryService, 'runJson'>;
  logFile?: string;
  log: Logger;
}

export interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** GET for HEAD too. */
  method: string;
  params: URLSearchParams;
  deps: ApiDeps;
}

export function bucketOr404(reader: Reader, id: string): BucketRow {
  const b = reader.bucket(id);
  if (!b) throw notFound(`The requested bucket '${id}' does not exist`);
  return b;
}

/** An event id in the path: a positive integer, else 400 (the reference's route simply does not match). */
export function parseEventId(text: string): number {
  if (!/^[0-9]{1,15}$/.test(text) || Number(text) <= 0) throw new InputError(`event id '${text}' is not a positive integer`, 400);
  return Number(text);
}
