import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Holds a streamed body so it can be read twice (validate first, then import): in memory while small,
 * in a private temp file beyond `memLimit`. Always call dispose().
 */
export class Spool {
  private mem: Buffer[] = [];
  private memSize = 0;
  private file: fs.promises.FileHandle | null = null;
  private filePath: string | null = null;
  size = 0;

  constructor(
    private readonly dir: string,
    private readonly memLimit = 8 * 1024 * 1024,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    this.size += chunk.length;
    if (!this.file && this.memSize + chunk.length <= this.memLimit) {
      this.mem.push(chunk);
      this.memSize += chunk.length;
      return;
    }
    if (!this.file) {
      this.filePath = path.join(this.dir, `.sundial-import-${crypto.randomBytes(8).toString('hex')}.tmp`);
      this.file = await fs.promises.open(this.filePath, 'wx', 0o600);
      for (const b of this.mem) await this.file.write(b);
      this.mem = [];
    }
    await this.file.write(chunk);
  }

  /** The spooled bytes, in order. */
  async *read(): AsyncGenerator<Buffer> {
    if (!this.filePath) {
      yield* this.mem;
      return;
    }
    for await (const chunk of fs.createReadStream(this.filePath, { highWaterMark: 256 * 1024 })) yield chunk as Buffer;
  }

  async dispose(): Promise<void> {
    this.mem = [];
    const f = this.file, p = this.filePath;
    this.file = null;
    this.filePath = null;
    if (f) await f.close().catch(() => undefined);
    if (p) await fs.promises.rm(p, { force: true });
  }
}
