// The bound on one line of a component's output, shared by the log (output.ts) and the in-memory
// buffers (buffer.ts), which must cut lines at the same place.

/** the longest piece of a line kept in memory, and so the longest message of one record */
export const MAX_LINE = 64 * 1024;
