export const TIMEOUT = Symbol('timeout');

/** Settles like `p`, or with TIMEOUT once `ms` passed first (the timer is cleared either way). */
export async function within<T>(p: PromiseLike<T> | T, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, ms));
  });
  try {
    return await Promise.race([Promise.resolve(p), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
