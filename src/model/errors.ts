/** An error caused by the caller's input: HTTP maps it to 4xx, the bus to an error reply. */
export class InputError extends Error {
  constructor(
    message: string,
    /** HTTP status to answer with (400 bad value, 404 unknown thing, 422 wrong shape, ...). */
    readonly status: number = 400,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

export const notFound = (what: string): InputError => new InputError(what, 404);
