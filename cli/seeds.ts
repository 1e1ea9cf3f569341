// Parses seed lists: "1111", "1111,1112", "1111-1115".

import { UsageError } from './errors.js';

export function parseSeeds(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new UsageError(`bad seed list "${text}"`, 'write seeds as 1111, 1111,1112 or 1111-1115');
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (!(b <= 0xffffffff)) throw new UsageError(`seed ${m[2] ?? m[1]} is too large`, 'seeds are whole numbers from 0 to 4294967295');
    if (b < a || b - a > 1000) throw new UsageError(`bad seed range "${part}"`, 'a range goes upwards, e.g. 1111-1115');
    for (let s = a; s <= b; s++) out.push(s);
  }
  return out;
}
