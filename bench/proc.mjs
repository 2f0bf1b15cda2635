// Reading Linux's /proc for the benchmarks' CPU figures.
import fs from 'node:fs';

/**
 * A process's stat line (or, with `tid`, one of its threads'): its name and the fields after the
 * name's closing parenthesis (the name may hold spaces). Throws when the process is gone.
 */
export function procStat(pid, tid) {
  const raw = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  return { name: raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')')), fields: raw.slice(raw.lastIndexOf(')') + 2).split(' ') };
}

/** CPU time used so far (utime + stime), in clock ticks: USER_HZ, 100 a second on Linux. */
export const cpuTicks = (fields) => Number(fields[11]) + Number(fields[12]);
