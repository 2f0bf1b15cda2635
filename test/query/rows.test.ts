import { describe, expect, it } from 'vitest';
import { integerAt } from '../../src/query/rows.js';

describe('integerAt (reading row fields in place)', () => {
  const general = (text: string, from: number, to: number) => +text.slice(from, to);

  it('equals the general conversion for edge values and for what is not a safe integer', () => {
    const fields = ['0', '-0', '7', '-7', '1796280303181000', '-1796280303181000', String(Number.MAX_SAFE_INTEGER), String(-Number.MAX_SAFE_INTEGER),
      '9007199254740993', '99999999999999999999', '1.5', '1700000000000000.0', '1e15', '', '-', 'abc', '12a'];
    for (const f of fields) {
      const text = `x,${f},y`;
      const got = integerAt(text, 2, 2 + f.length);
      expect(Object.is(got, general(text, 2, 2 + f.length)), `${JSON.stringify(f)} → ${got}`).toBe(true);
    }
  });

  it('equals the general conversion for random integers of every length', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 20_000; n++) {
      const digits = 1 + Math.floor(rand() * 17);
      let f = String(1 + Math.floor(rand() * 9));
      while (f.length < digits) f += Math.floor(rand() * 10);
      if (rand() < 0.2) f = '-' + f;
      const text = `${f},`;
      expect(integerAt(text, 0, f.length)).toBe(general(text, 0, f.length));
    }
  });
});
