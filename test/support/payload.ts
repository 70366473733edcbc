// The checkable payload of the process tests: bytes that follow from (seed, size), so a
// receiver (a fixture or the test) checks every byte without being told the content.

const byteAt = (seed: number, i: number): number => (seed + i + (i >>> 8) * 37 + (i >>> 16) * 101) & 255;

/** The payload for a message with this seed and size. */
export function pattern(seed: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = byteAt(seed, i);
  return b;
}

/** Whether `b` is pattern(seed, b.length). */
export function patternOk(seed: number, b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== byteAt(seed, i)) return false;
  return true;
}
