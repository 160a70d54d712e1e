// The hot path of component output (src/log/output.ts, src/log/buffer.ts): where the lines of a
// chunk end, and the JSON records of those lines. Both were JavaScript loops of one call per line
// (Buffer.indexOf, subarray, set), which at millions of lines a second cost more than the bytes:
// here a chunk is one call, memchr finds the newlines and 16-byte blocks are checked at once.
//
// jsonRecords writes exactly what JSON.stringify would make of each line decoded as UTF-8
// (the escapes \" \\ \b \t \n \f \r and \u00xx in lower case; everything else as it is). A line
// that is not valid UTF-8 would be decoded with U+FFFD replacements: jsonRecords then returns
// null and the caller takes its JavaScript path, which decodes as Node does.
#define _GNU_SOURCE
#include <node_api.h>

#include <stdint.h>
#include <string.h>

#include "addon.h"

#define NEWLINE 0x0a

typedef uint8_t block16 __attribute__((vector_size(16)));

// true when none of the 16 bytes needs an escape or is outside ASCII
static inline int block_is_plain(const uint8_t *bytes) {
  block16 v;
  memcpy(&v, bytes, 16);
  const block16 control = v < 0x20;
  const block16 high = v >= 0x80;
  const block16 quote = v == '"';
  const block16 backslash = v == '\\';
  block16 any = control | high | quote | backslash;
  uint64_t halves[2];
  memcpy(halves, &any, 16);
  return (halves[0] | halves[1]) == 0;
}

// how long a UTF-8 sequence starting at bytes[0] is (at most `left` bytes), 0 when invalid
static size_t utf8_sequence(const uint8_t *bytes, size_t left) {
  const uint8_t lead = bytes[0];
  size_t size;
  uint8_t low = 0x80, high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) size = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    size = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;  // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    size = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else return 0;
  if (left < size) return 0;
  if (bytes[1] < low || bytes[1] > high) return 0;
  for (size_t i = 2; i < size; i++)
    if (bytes[i] < 0x80 || bytes[i] > 0xbf) return 0;
  return size;
}

// what JSON.stringify writes for an ASCII byte: 1 (itself), 2 (\x), 6 (\u00xx)
static inline size_t escaped_size(uint8_t byte) {
  if (byte == '"' || byte == '\\') return 2;
  if (byte >= 0x20) return 1;
  switch (byte) {
    case '\b': case '\t': case '\n': case '\f': case '\r': return 2;
    default: return 6;
  }
}

// the size of the line's message once escaped, or SIZE_MAX when it is not valid UTF-8
static size_t message_size(const uint8_t *line, size_t length) {
  size_t size = 0, i = 0;
  while (i < length) {
    if (i + 16 <= length && block_is_plain(line + i)) {
      size += 16;
      i += 16;
      continue;
    }
    const uint8_t byte = line[i];
    if (byte < 0x80) {
      size += escaped_size(byte);
      i++;
    } else {
      const size_t sequence = utf8_sequence(line + i, length - i);
      if (sequence == 0) return SIZE_MAX;
      size += sequence;
      i += sequence;
    }
  }
  return size;
}

static uint8_t *write_message(uint8_t *out, const uint8_t *line, size_t length) {
  static const char hex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < length) {
    if (i + 16 <= length && block_is_plain(line + i)) {
      memcpy(out, line + i, 16);
      out += 16;
      i += 16;
      continue;
    }
    const uint8_t byte = line[i++];
    if (byte >= 0x80 || (byte >= 0x20 && byte != '"' && byte != '\\')) {
      *out++ = byte;  // validated by message_size: a sequence is copied byte by byte
      continue;
    }
    *out++ = '\\';
    switch (byte) {
      case '"': *out++ = '"'; break;
      case '\\': *out++ = '\\'; break;
      case '\b': *out++ = 'b'; break;
      case '\t': *out++ = 't'; break;
      case '\n': *out++ = 'n'; break;
      case '\f': *out++ = 'f'; break;
      case '\r': *out++ = 'r'; break;
      default:
        *out++ = 'u';
        *out++ = '0';
        *out++ = '0';
        *out++ = hex[byte >> 4];
        *out++ = hex[byte & 0xf];
    }
  }
  return out;
}

static int get_bytes(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_buffer = false;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  void *raw;
  if (napi_get_buffer_info(env, value, &raw, length) != napi_ok) return 0;
  *data = raw;
  return 1;
}

static int get_ends(napi_env env, napi_value value, int32_t **ends, size_t *capacity) {
  napi_typedarray_type type;
  void *raw;
  napi_value arraybuffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, capacity, &raw, &arraybuffer, &offset) != napi_ok ||
      type != napi_int32_array)
    return 0;
  *ends = raw;
  return 1;
}

static int get_index(napi_env env, napi_value value, size_t limit, size_t *index) {
  int64_t number;
  if (napi_get_value_int64(env, value, &number) != napi_ok || number < 0 || (uint64_t)number > limit) return 0;
  *index = (size_t)number;
  return 1;
}

// scanLines(bytes, start, end, ends: Int32Array) -> n: the indices of the first n newlines of
// bytes[start, end) in ends[0..n), n at most ends.length
napi_value scan_lines(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 4;
  napi_value argv[4];
  uint8_t *bytes;
  size_t length, start, end, capacity;
  int32_t *ends;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      !get_bytes(env, argv[0], &bytes, &length) || !get_index(env, argv[2], length, &end) ||
      !get_index(env, argv[1], end, &start) || !get_ends(env, argv[3], &ends, &capacity)) {
    napi_throw_type_error(env, NULL, "scanLines(bytes, start, end, ends: Int32Array)");
    return NULL;
  }
  size_t n = 0;
  const uint8_t *at = bytes + start;
  const uint8_t *stop = bytes + end;
  while (n < capacity && at < stop) {
    const uint8_t *newline = memchr(at, NEWLINE, (size_t)(stop - at));
    if (newline == NULL) break;
    ends[n++] = (int32_t)(newline - bytes);
    at = newline + 1;
  }
  napi_value result;
  napi_create_uint32(env, (uint32_t)n, &result);
  return result;
}

// The index of the n-th newline of bytes[start, end) counted from the end, or -(found + 1) when
// it holds only `found` (< n) newlines. The in-memory buffers keep only a pipe's last lines: what
// comes before them need not be copied or cut into lines (src/log/buffer.ts, LogBuffers.stage;
// relay.c for raw output). memrchr jumps from line to line, so the cost is that of the lines
// kept, not of the chunk.
int64_t nth_newline_from_end(const uint8_t *bytes, size_t start, size_t end, size_t n) {
  size_t found = 0;
  size_t stop = end;
  while (found < n && stop > start) {
    const uint8_t *newline = memrchr(bytes + start, NEWLINE, stop - start);
    if (newline == NULL) break;
    found++;
    stop = (size_t)(newline - bytes);
  }
  return found == n ? (int64_t)stop : -(int64_t)found - 1;
}

// newlineFromEnd(bytes, start, end, n) -> nth_newline_from_end's answer
napi_value newline_from_end(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 4;
  napi_value argv[4];
  uint8_t *bytes;
  size_t length, start, end, n;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      !get_bytes(env, argv[0], &bytes, &length) || !get_index(env, argv[2], length, &end) ||
      !get_index(env, argv[1], end, &start) || !get_index(env, argv[3], INT32_MAX, &n) || n == 0) {
    napi_throw_type_error(env, NULL, "newlineFromEnd(bytes, start, end, n > 0)");
    return NULL;
  }
  napi_value result;
  napi_create_int64(env, nth_newline_from_end(bytes, start, end, n), &result);
  return result;
}

// jsonRecords(bytes, start, ends: Int32Array, n, head: Buffer, tail: Buffer, out: Buffer) ->
// the length of the records, written at the start of `out`: for each of the n lines (the first
// from `start` to ends[0], each next one from the byte after the previous newline to its own
// ends[i], newlines excluded, and a CR before the newline dropped) head + the line as the inside
// of a JSON string + tail. -(the length needed) when `out` is too small (nothing written), null
// when a line is not UTF-8. Into the caller's buffer, used again for every chunk: a fresh buffer
// each time was ~600 KiB of new pages to fault in per read of a busy component.
napi_value json_records(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 7;
  napi_value argv[7];
  uint8_t *bytes, *head, *tail, *data;
  size_t length, start, capacity, n, head_length, tail_length, room;
  int32_t *ends;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 7 ||
      !get_bytes(env, argv[0], &bytes, &length) || !get_index(env, argv[1], length, &start) ||
      !get_ends(env, argv[2], &ends, &capacity) || !get_index(env, argv[3], capacity, &n) ||
      !get_bytes(env, argv[4], &head, &head_length) || !get_bytes(env, argv[5], &tail, &tail_length) ||
      !get_bytes(env, argv[6], &data, &room)) {
    napi_throw_type_error(env, NULL, "jsonRecords(bytes, start, ends: Int32Array, n, head, tail, out)");
    return NULL;
  }
  // the lines must lie in the buffer, one after the other
  size_t from = start;
  for (size_t i = 0; i < n; i++) {
    if (ends[i] < 0 || (size_t)ends[i] < from || (size_t)ends[i] > length) {
      napi_throw_range_error(env, NULL, "jsonRecords: line ends out of order or out of the buffer");
      return NULL;
    }
    from = (size_t)ends[i] + 1;
  }
  size_t total = 0;
  from = start;
  for (size_t i = 0; i < n; i++) {
    size_t line_end = (size_t)ends[i];
    if (line_end > from && bytes[line_end - 1] == '\r') line_end--;
    const size_t size = message_size(bytes + from, line_end - from);
    if (size == SIZE_MAX) {
      napi_value null_value;
      napi_get_null(env, &null_value);
      return null_value;
    }
    total += head_length + size + tail_length;
    from = (size_t)ends[i] + 1;
  }
  napi_value result;
  if (total > room || total > INT32_MAX) {
    napi_create_int64(env, -(int64_t)total, &result);
    return result;
  }
  uint8_t *out = data;
  from = start;
  for (size_t i = 0; i < n; i++) {
    size_t line_end = (size_t)ends[i];
    if (line_end > from && bytes[line_end - 1] == '\r') line_end--;
    memcpy(out, head, head_length);
    out += head_length;
    out = write_message(out, bytes + from, line_end - from);
    memcpy(out, tail, tail_length);
    out += tail_length;
    from = (size_t)ends[i] + 1;
  }
  napi_create_int64(env, (int64_t)total, &result);
  return result;
}
