import fs from 'node:fs';

/** Writes a file only the user can read (0600), atomically: readers see the old or the new text. */
export function writePrivate(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** The trimmed content of `file`, created with `make()` when it is missing or not `valid`. */
export function readOrCreate(file: string, make: () => string, valid: (text: string) => boolean = (t) => t !== ''): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    if (valid(text)) return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const text = make();
  writePrivate(file, text + '\n');
  return text;
}
