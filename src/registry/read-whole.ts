import { readSync } from 'node:fs';

/**
 * The first `size` bytes of open file `fd` (its size, checked against a bound by the caller), in
 * as many reads as it takes; fewer if the file shrank meanwhile.
 */
export function readWhole(fd: number, size: number): Buffer {
  const buffer = Buffer.alloc(size);
  let read = 0;
  while (read < buffer.length) {
    const n = readSync(fd, buffer, read, buffer.length - read, read);
    if (n === 0) break;
    read += n;
  }
  return buffer.subarray(0, read);
}
