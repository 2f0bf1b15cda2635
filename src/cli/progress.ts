/**
 * A one-line progress bar on stderr when it is a terminal (nothing otherwise): fraction done, rate
 * and time left. Redraws at most every 100 ms.
 */
export function progressBar(label: string, unit = 'events') {
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  let last = 0;
  const draw = (done: number, total: number | null, force = false) => {
    if (!tty) return;
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const secs = Math.max((now - started) / 1000, 0.001);
    const rate = done / secs;
    const frac = total ? Math.min(1, done / total) : null;
    const width = 24;
    const bar = frac === null ? '' : `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${(frac * 100).toFixed(0).padStart(3)}% `;
    const eta = frac !== null && rate > 0 && total ? `, ETA ${fmtSecs((total - done) / rate)}` : '';
    process.stderr.write(`\r${label} ${bar}${done.toLocaleString('en-US')}${total ? `/${total.toLocaleString('en-US')}` : ''} ${unit}, ${Math.round(rate).toLocaleString('en-US')} ${unit}/s${eta}\x1b[K`);
  };
  return {
    update: (done: number, total: number | null) => draw(done, total),
    done(done: number, total: number | null) {
      draw(done, total, true);
      if (tty) process.stderr.write('\n');
    },
  };
}

const fmtSecs = (s: number) => (s < 60 ? `${Math.ceil(s)} s` : `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`);
