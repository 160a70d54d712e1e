// The bound on one line of a component's output, shared by the log (output.ts) and the in-memory
// buffers (buffer.ts), which must cut lines at the same place.

/** the longest piece of a line kept in memory, and so the longest message of one record */
export const MAX_LINE = 64 * 1024;

/**
 * Where to cut `bytes` (longer than MAX_LINE) so that the piece is at most MAX_LINE long and no
 * UTF-8 character is torn between two pieces (MAX_LINE itself when the bytes are not UTF-8).
 */
export function utf8CutAt(bytes: Buffer): number {
  let cut = MAX_LINE;
  for (let back = 0; back < 3 && cut > 0 && (bytes[cut]! & 0xc0) === 0x80; back++) cut--;
  return cut > 0 && (bytes[cut]! & 0xc0) !== 0x80 ? cut : MAX_LINE;
}

/** the bytes before an unfinished UTF-8 character at the end (all of them when there is none) */
export function utf8CompleteLength(bytes: Buffer): number {
  let start = bytes.length - 1;
  while (start > 0 && bytes.length - start < 4 && (bytes[start]! & 0xc0) === 0x80) start--;
  const lead = bytes[start]!;
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return bytes.length - start >= size ? bytes.length : start;
}
