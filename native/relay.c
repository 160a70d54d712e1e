// Raw-mode component output, relayed by a thread of its own: read(2) from the component's pipe,
// write(2) of whole lines to our stdout or stderr, as a C relay would; during a burst, tee(2) to
// see the bytes and splice(2) to move the lines (see "Splicing" below): as close as a relay gets
// to tini, whose children write straight to its stdout. JavaScript never carries these
// bytes: it is told, at most once per turn of its loop, what went by (for the in-memory log
// buffers, and only what they could keep: a pipe's last lines, unless someone follows), what
// could not be written, and that the pipe ended (src/log/relay.ts).
//
// A destination (our stdout or stderr) has one writer at a time, so whole lines of different
// components and the supervisor's own records never interleave mid-line: a token. A relay takes
// it for one chunk of whole lines; JavaScript's writer (src/log/batch-writer.ts) takes it for as
// long as it holds bytes not yet handed to the OS, and when it asks while a relay writes, it gets
// the token as soon as that chunk is out, before any relay's next one.
//
// Threads, locks and conditions are libuv's, which Node exports to addons: pthread_create lives
// in libpthread before glibc 2.34 and in libc at GLIBC_2.34 after, which the prebuilds cannot
// need (test/packaging: GLIBC_2.17 at most).
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "addon.h"

// a line longer than this is cut into pieces (src/log/line.ts MAX_LINE)
#define MAX_LINE (64 * 1024)
// what one read takes: a grown output pipe's capacity (pipes.c)
#define READ_SIZE OUTPUT_PIPE_SIZE
// what the kernel gives a new pipe: a read this large found it full
#define KERNEL_PIPE_SIZE (64 * 1024)
// a partial line waits this long for its end (src/log/output.ts IDLE_FLUSH_MS)
#define IDLE_FLUSH_MS 1000
// what waits for JavaScript without followers: past it, the oldest bytes go (a ring holds at most
// LOG_BUFFER_BYTES, 1 MiB, so everything it could keep stays)
#define OBSERVED_MAX (2 * 1024 * 1024)
#define OBSERVED_KEPT (1024 * 1024 + MAX_LINE)
// kept between takes up to this; a burst's larger buffer is given back
#define OBSERVED_RETAINED (256 * 1024)
// while someone follows: a take at most about one read, as when JavaScript read the pipe itself,
// so that a follower gets lines in pieces its stream can carry (src/http/sse.ts drops a client
// that leaves 1 MiB unread)
#define FOLLOWED_MAX READ_SIZE
#define THREAD_STACK (128 * 1024)
// during a burst, JavaScript hears of the lines at most this often (src/log/buffer.ts lets a
// chunk wait as long, STAGE_MS): the first chunk at once, the last ones once this has passed
#define NEWS_INTERVAL_NS (20 * 1000 * 1000)
#define MAX_DESTINATIONS 8

enum { OWNER_NONE, OWNER_JS, OWNER_RELAY };
// what relayTake reports besides bytes (src/log/relay.ts reads the same bits)
enum { NEWS_RESYNC = 1, NEWS_IDLE = 2, NEWS_ENDED = 4 };

typedef struct {
  int fd;
  int owner;
  // JavaScript asked while a relay held the token: it gets it next
  int js_waiting;
  // a relay found it full once: it was grown if it could be (pipes.c grow_destination_pipe)
  int grow_tried;
  // splice(2) into it failed with EINVAL (a file opened to append): relays write to it (atomic)
  int refuses_splice;
  // tells JavaScript's writer that the token is now its own
  napi_threadsafe_function granted;
} destination;

static uv_once_t tokens_once = UV_ONCE_INIT;
static uv_mutex_t tokens_lock;
static uv_cond_t token_released;
static destination destinations[MAX_DESTINATIONS];
static int destination_count;

static void init_tokens(void) {
  uv_mutex_init(&tokens_lock);
  uv_cond_init(&token_released);
}

// under tokens_lock; NULL when the table is full
static destination *find_destination(int fd) {
  for (int i = 0; i < destination_count; i++)
    if (destinations[i].fd == fd) return &destinations[i];
  if (destination_count == MAX_DESTINATIONS) return NULL;
  destination *d = &destinations[destination_count++];
  memset(d, 0, sizeof *d);
  d->fd = fd;
  return d;
}

typedef struct {
  int in;
  // an eventfd: readable once JavaScript asks the relay to stop (it stays readable)
  int wake;
  destination *dest;
  napi_threadsafe_function news;
  uv_thread_t thread;
  int thread_started;
  int stopping;  // atomic
  uv_mutex_t lock;
  uv_cond_t taken;
  // under lock: what JavaScript gets at its next take
  uint8_t *observed;
  size_t observed_length, observed_capacity;
  int32_t keep_lines;  // the lines JavaScript keeps; -1: every line (someone follows)
  int flags;
  int notified;
  double dropped;
  // the relay thread's own: when JavaScript was last told, and whether lines wait to be told
  uint64_t told_at;
  int untold;
  // the tsfn's finalizer (the thread is done) and the JavaScript handle's: freed by the second
  int refs;
} relay;

// someone follows the logs (src/log/buffer.ts): every relay gives JavaScript every line, at once
static int followed;  // atomic

static int32_t lines_to_keep(relay *r) {
  return __atomic_load_n(&followed, __ATOMIC_ACQUIRE) ? -1 : r->keep_lines;
}

static int stopping(relay *r) { return __atomic_load_n(&r->stopping, __ATOMIC_ACQUIRE); }

// the token of r's destination, or 0 when told to stop while waiting for it
static int take_token(relay *r) {
  destination *d = r->dest;
  uv_mutex_lock(&tokens_lock);
  while ((d->owner != OWNER_NONE || d->js_waiting) && !stopping(r)) uv_cond_wait(&token_released, &tokens_lock);
  int taken = d->owner == OWNER_NONE && !d->js_waiting;
  if (taken) d->owner = OWNER_RELAY;
  uv_mutex_unlock(&tokens_lock);
  return taken;
}

// under tokens_lock: the token goes to JavaScript if it asked, else to whoever waits
static void pass_token(destination *d) {
  d->owner = OWNER_NONE;
  if (d->js_waiting && d->granted) {
    d->js_waiting = 0;
    d->owner = OWNER_JS;
    napi_call_threadsafe_function(d->granted, NULL, napi_tsfn_nonblocking);
  }
  uv_cond_broadcast(&token_released);
}

static void give_token(relay *r) {
  uv_mutex_lock(&tokens_lock);
  pass_token(r->dest);
  uv_mutex_unlock(&tokens_lock);
}

static void append_observed(relay *r, const uint8_t *bytes, size_t length) {
  if (length == 0) return;
  size_t needed = r->observed_length + length;
  if (needed > r->observed_capacity) {
    size_t capacity = r->observed_capacity ? r->observed_capacity : 64 * 1024;
    while (capacity < needed) capacity *= 2;
    uint8_t *grown = realloc(r->observed, capacity);
    if (!grown) {
      // no memory for the log buffers' copy: they miss these lines, the output does not
      r->observed_length = 0;
      r->flags |= NEWS_RESYNC;
      return;
    }
    r->observed = grown;
    r->observed_capacity = capacity;
  }
  memcpy(r->observed + r->observed_length, bytes, length);
  r->observed_length += length;
}

// under r->lock: JavaScript hears of it once, however much follows before it takes
static void notify(relay *r) {
  r->untold = 0;
  if (r->notified) return;
  r->notified = 1;
  r->told_at = uv_hrtime();
  napi_call_threadsafe_function(r->news, NULL, napi_tsfn_nonblocking);
}

// under r->lock: lines for the log buffers, told at once unless JavaScript was told less than
// NEWS_INTERVAL_NS ago (then relay_main tells once that has passed: see news_wait_ms)
static void notify_lines(relay *r) {
  if (r->notified) return;
  if (uv_hrtime() - r->told_at >= NEWS_INTERVAL_NS) notify(r);
  else r->untold = 1;
}

// the relay thread: how long its poll may wait before lines waiting to be told are due (-1: none)
static int news_wait_ms(relay *r) {
  uv_mutex_lock(&r->lock);
  int wait = -1;
  if (r->untold && !r->notified) {
    uint64_t since = uv_hrtime() - r->told_at;
    wait = since >= NEWS_INTERVAL_NS ? 0 : (int)((NEWS_INTERVAL_NS - since) / 1000000) + 1;
    if (wait == 0) notify(r);
  } else {
    r->untold = 0;
  }
  uv_mutex_unlock(&r->lock);
  return wait == 0 ? -1 : wait;
}

// what went by, for JavaScript: every byte while someone follows, else only what a ring of
// keep_lines lines could keep (from the newline before them: NEWS_RESYNC says to skip to it)
static void set_aside(relay *r, const uint8_t *bytes, size_t length) {
  uv_mutex_lock(&r->lock);
  const int32_t keep = lines_to_keep(r);
  if (keep < 0) {
    while (r->observed_length > 0 && r->observed_length + length > FOLLOWED_MAX && !stopping(r)) {
      // told now, not at the top of the loop: lines set aside before the follower came may be
      // waiting untold (notify_lines), and only a take ends this wait
      notify(r);
      uv_cond_wait(&r->taken, &r->lock);
    }
    append_observed(r, bytes, length);
  } else if (keep > 0 && length > 0) {
    const int64_t from = nth_newline_from_end(bytes, 0, length, (size_t)keep + 1);
    if (from >= 0) {
      r->observed_length = 0;
      r->flags |= NEWS_RESYNC;
      bytes += from;
      length -= (size_t)from;
    }
    append_observed(r, bytes, length);
    if (r->observed_length > OBSERVED_MAX) {
      // long lines: the last OBSERVED_KEPT bytes hold every line the ring could keep
      size_t cut = r->observed_length - OBSERVED_KEPT;
      memmove(r->observed, r->observed + cut, OBSERVED_KEPT);
      r->observed_length = OBSERVED_KEPT;
      r->flags |= NEWS_RESYNC;
    }
  }
  uv_mutex_unlock(&r->lock);
}

// JavaScript hears of it: an idle piece, a drop, and every line someone follows at once, other
// lines at most every NEWS_INTERVAL_NS
static void tell(relay *r, int flags, size_t dropped) {
  uv_mutex_lock(&r->lock);
  r->flags |= flags;
  r->dropped += (double)dropped;
  if (flags || dropped || lines_to_keep(r) < 0) notify(r);
  else if (r->observed_length > 0) notify_lines(r);
  uv_mutex_unlock(&r->lock);
}

// the destination was full (EAGAIN): grown the first time (under the token: no other relay
// touches grow_tried meanwhile), else waited on until it has room; 0 when the relay was told to
// stop meanwhile (or poll failed)
static int wait_for_room(relay *r) {
  const int fd = r->dest->fd;
  if (!r->dest->grow_tried) {
    r->dest->grow_tried = 1;
    if (grow_destination_pipe(fd)) return 1;
  }
  struct pollfd ready[2] = {{fd, POLLOUT, 0}, {r->wake, POLLIN, 0}};
  if (poll(ready, 2, -1) < 0 && errno != EINTR) return 0;
  return !(ready[1].revents & POLLIN);
}

// writes bytes whole, waiting for room (the component then waits on its own pipe, which is the
// backpressure); returns the bytes not written: the destination failed (EPIPE...), or the relay
// was told to stop while it was full
static size_t write_all(relay *r, const uint8_t *bytes, size_t length) {
  while (length > 0) {
    ssize_t n = write(r->dest->fd, bytes, length);
    if (n > 0) {
      bytes += n;
      length -= (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && wait_for_room(r)) continue;
    return length;
  }
  return 0;
}

// moves the next length bytes of the component's pipe to the destination, as write_all writes
// them; returns the bytes not moved. *refused: the destination takes no splice (EINVAL: a file
// opened to append), and what is left is to be written instead
static size_t splice_all(relay *r, size_t length, int *refused) {
  while (length > 0) {
    ssize_t n = splice(r->in, NULL, r->dest->fd, NULL, length, SPLICE_F_NONBLOCK);
    if (n > 0) {
      length -= (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // the bytes are in the component's pipe (tee saw them): EAGAIN is the destination's
    if (n < 0 && errno == EAGAIN && wait_for_room(r)) continue;
    *refused = n < 0 && errno == EINVAL;
    return length;
  }
  return 0;
}

// one chunk (whole lines, or a piece of a line): written, then set aside for JavaScript (after
// the token is given back: set_aside may wait for a take while someone follows), and told
static void emit(relay *r, const uint8_t *bytes, size_t length, int flags) {
  size_t dropped = 0;
  if (length > 0) {
    if (take_token(r)) {
      dropped = write_all(r, bytes, length);
      give_token(r);
    } else {
      dropped = length;
    }
  }
  set_aside(r, bytes, length);
  tell(r, flags, dropped);
}

// Splicing, once a component bursts (its pipe grew): the relay sees the bytes through tee(2) into a
// pipe of its own (peek), which it reads as it read the component's pipe (one copy, into the same
// buffer), and moves whole lines from the component's pipe to the destination with splice(2),
// which hands over the pages the component wrote instead of copying them a second time: the
// bench's raw burst went from 0.75x tini's passthrough to 0.85x. Until they are moved, the bytes
// stay in the component's pipe, which the buffer mirrors: what is not moved (the partial line
// left, a chunk dropped) is read again onto its own copy (take_mirrored).
typedef struct {
  int peek[2];
  int on;
} splicer;

// a bursting relay starts splicing: a peek pipe that holds a whole read (a grown pipe, within
// pipes.c's cap), and a destination that has not refused a splice
static void start_splicing(relay *r, splicer *s) {
  if (__atomic_load_n(&r->dest->refuses_splice, __ATOMIC_ACQUIRE)) return;
  if (pipe2(s->peek, O_CLOEXEC | O_NONBLOCK) != 0) return;
  if (!grow_output_pipe(s->peek[1])) {
    close(s->peek[0]);
    close(s->peek[1]);
    return;
  }
  s->on = 1;
}

static void stop_splicing(splicer *s) {
  if (!s->on) return;
  s->on = 0;
  close(s->peek[0]);
  close(s->peek[1]);
  grown_pipe_closed();
}

// what a read would give (at most room bytes, 0 at the end, -1 with errno), left in the pipe
static ssize_t peek(relay *r, splicer *s, uint8_t *into, size_t room) {
  ssize_t teed = tee(r->in, s->peek[1], room, SPLICE_F_NONBLOCK);
  if (teed <= 0) return teed;
  for (ssize_t got = 0; got < teed;) {
    ssize_t n = read(s->peek[0], into + got, (size_t)(teed - got));
    if (n > 0) got += n;
    else if (n < 0 && errno == EINTR) continue;
    else return -1;
  }
  return teed;
}

// takes length bytes out of the component's pipe that the buffer already holds at `at` (read
// again onto themselves); 0 when the pipe failed
static int take_mirrored(relay *r, uint8_t *at, size_t length) {
  while (length > 0) {
    ssize_t n = read(r->in, at, length);
    if (n > 0) {
      at += n;
      length -= (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      // cannot be (the bytes are there); waits rather than spins if it were
      struct pollfd ready = {r->in, POLLIN, 0};
      poll(&ready, 1, 100);
    } else {
      return 0;
    }
  }
  return 1;
}

// emit's twin while splicing: whole lines [0, whole) of the buffer, of which [0, held) were taken
// out of the component's pipe before (the partial line that waited) and the rest is still in it;
// returns how many of those it moved out of the pipe
static size_t emit_spliced(relay *r, const uint8_t *bytes, size_t whole, size_t held) {
  const size_t written = whole < held ? whole : held;
  const size_t in_pipe = whole - written;
  size_t dropped = 0, moved = 0;
  if (take_token(r)) {
    dropped = write_all(r, bytes, written);
    if (dropped > 0) {
      dropped += in_pipe;
    } else if (in_pipe > 0) {
      int refused = 0;
      const size_t left = splice_all(r, in_pipe, &refused);
      moved = in_pipe - left;
      if (refused) {
        __atomic_store_n(&r->dest->refuses_splice, 1, __ATOMIC_RELEASE);
        dropped = write_all(r, bytes + written + moved, left);
      } else {
        dropped = left;
      }
    }
    give_token(r);
  } else {
    dropped = whole;
  }
  set_aside(r, bytes, whole);
  tell(r, 0, dropped);
  return moved;
}

// the longest start of bytes[0, n) that does not end inside a UTF-8 sequence (n when it does not,
// or when what ends it is no valid sequence): a long line's pieces are cut between characters
static size_t utf8_boundary(const uint8_t *bytes, size_t n) {
  size_t i = n, continuation = 0;
  while (i > 0 && continuation < 3 && (bytes[i - 1] & 0xc0) == 0x80) {
    i--;
    continuation++;
  }
  if (i == 0) return n;
  const uint8_t lead = bytes[i - 1];
  const size_t size = lead >= 0xf8 ? 0 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return size > continuation + 1 ? i - 1 : n;
}

static void relay_main(void *arg) {
  relay *r = arg;
  // signals are the main thread's business (sigprocmask acts on this thread alone on Linux)
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  // named for ps -L and top -H
  prctl(PR_SET_NAME, "s7-relay", 0, 0, 0);
  // mapped at the first byte, not before: a component that prints nothing (or has not yet) costs
  // its relay a stack and nothing else (no buffer, no malloc arena of this thread)
  uint8_t *buffer = NULL;
  const size_t buffer_size = READ_SIZE + MAX_LINE;
  size_t held = 0;
  int grown = 0, tried_growing = 0;
  splicer splicing = {{-1, -1}, 0};
  // when the last bytes came: a partial line is let out once it waited IDLE_FLUSH_MS (once: what
  // is left of it then is the start of a character, which waits for the rest)
  uint64_t held_since = 0;
  int idle_flushed = 0;
  for (;;) {
    struct pollfd ready[2] = {{r->in, POLLIN, 0}, {r->wake, POLLIN, 0}};
    const int news_wait = news_wait_ms(r);
    const int idle_pending = held > 0 && !idle_flushed;
    const uint64_t idle_due = idle_pending ? held_since + (uint64_t)IDLE_FLUSH_MS * 1000000 : 0;
    int wait = -1;
    if (idle_pending) {
      uint64_t now = uv_hrtime();
      wait = now >= idle_due ? 0 : (int)((idle_due - now) / 1000000) + 1;
    }
    if (news_wait >= 0 && (wait < 0 || news_wait < wait)) wait = news_wait;
    int n_ready = poll(ready, 2, wait);
    if (n_ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready[1].revents & POLLIN) break;
    if (n_ready == 0) {
      // the news is told at the top of the loop; a partial line waits for its whole second
      if (!idle_pending || uv_hrtime() < idle_due) continue;
      // a partial line that waited long enough with nothing more coming: let out as a piece, up
      // to the last whole character
      const size_t piece = utf8_boundary(buffer, held);
      emit(r, buffer, piece, NEWS_IDLE);
      held -= piece;
      memmove(buffer, buffer + piece, held);
      idle_flushed = 1;
      continue;
    }
    if (!buffer) {
      void *mapped = mmap(NULL, buffer_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      // no memory for it: the pipe is closed, and the component gets EPIPE as from a reader gone
      if (mapped == MAP_FAILED) break;
      buffer = mapped;
    }
    if (splicing.on && __atomic_load_n(&r->dest->refuses_splice, __ATOMIC_ACQUIRE)) stop_splicing(&splicing);
    // the bytes of this read: left in the pipe (peeked), or taken out of it
    const int peeked = splicing.on;
    ssize_t n = peeked ? peek(r, &splicing, buffer + held, buffer_size - held)
                            : read(r->in, buffer + held, buffer_size - held);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    if (n == 0) break;
    held_since = uv_hrtime();
    idle_flushed = 0;
    if (n >= KERNEL_PIPE_SIZE && !tried_growing) {
      tried_growing = 1;
      grown = grow_output_pipe(r->in);
      // from the next read on (this one's bytes are out of the pipe already)
      if (grown) start_splicing(r, &splicing);
    }
    size_t total = held + (size_t)n;
    const uint8_t *newline = memrchr(buffer + held, '\n', (size_t)n);
    size_t whole = newline ? (size_t)(newline - buffer) + 1 : 0;
    // a line too long to hold goes out in pieces, cut between characters as the log cuts it
    if (total - whole >= MAX_LINE) whole = utf8_boundary(buffer, total);
    int pipe_ok = 1;
    if (peeked) {
      const size_t moved = whole > 0 ? emit_spliced(r, buffer, whole, held) : 0;
      pipe_ok = take_mirrored(r, buffer + held + moved, (size_t)n - moved);
    } else if (whole > 0) {
      emit(r, buffer, whole, 0);
    }
    held = total - whole;
    memmove(buffer, buffer + whole, held);
    if (!pipe_ok) break;
  }
  // the last partial line: nothing is lost when a component ends mid-line
  if (held > 0) emit(r, buffer, held, 0);
  if (buffer) munmap(buffer, buffer_size);
  stop_splicing(&splicing);
  close(r->in);
  if (grown) grown_pipe_closed();
  uv_mutex_lock(&r->lock);
  r->flags |= NEWS_ENDED;
  notify(r);
  uv_mutex_unlock(&r->lock);
  napi_release_threadsafe_function(r->news, napi_tsfn_release);
}

static void unref_relay(relay *r) {
  if (--r->refs > 0) return;
  close(r->wake);
  uv_mutex_destroy(&r->lock);
  uv_cond_destroy(&r->taken);
  free(r->observed);
  free(r);
}

// the thread released the news function: it is at its very end, so the join is immediate
static void news_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  relay *r = data;
  if (r->thread_started) uv_thread_join(&r->thread);
  unref_relay(r);
}

static void handle_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  unref_relay(data);
}

void call_without_arguments(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  (void)data;
  if (!env || !callback) return;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, callback, 0, NULL, NULL);
}

static relay *get_relay(napi_env env, napi_value value) {
  void *data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, value, &data) != napi_ok)
    return NULL;
  return data;
}

// relayStart(readFd, destFd, keepLines, onNews) -> a handle. From then on the relay owns readFd
// (it closes it at the end). onNews() is called, at most once per turn of the loop, when there
// is something to take (relayTake). Throws an Error whose code is the errno (EAGAIN: no more
// threads), readFd then still the caller's.
napi_value relay_start(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t in, out, keep;
  napi_valuetype callback_type;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_value_int32(env, argv[0], &in) != napi_ok || napi_get_value_int32(env, argv[1], &out) != napi_ok ||
      napi_get_value_int32(env, argv[2], &keep) != napi_ok || napi_typeof(env, argv[3], &callback_type) != napi_ok ||
      callback_type != napi_function || in < 0 || out < 0) {
    napi_throw_type_error(env, NULL, "relayStart(readFd, destFd, keepLines, onNews)");
    return NULL;
  }
  uv_once(&tokens_once, init_tokens);
  uv_mutex_lock(&tokens_lock);
  destination *d = find_destination(out);
  uv_mutex_unlock(&tokens_lock);
  if (!d) {
    throw_errno(env, "relayStart", EMFILE);
    return NULL;
  }
  relay *r = calloc(1, sizeof *r);
  if (!r) {
    throw_errno(env, "relayStart", ENOMEM);
    return NULL;
  }
  r->in = in;
  r->dest = d;
  r->keep_lines = keep;
  r->refs = 2;
  r->wake = eventfd(0, EFD_CLOEXEC);
  if (r->wake < 0) {
    int err = errno;
    free(r);
    throw_errno(env, "eventfd", err);
    return NULL;
  }
  uv_mutex_init(&r->lock);
  uv_cond_init(&r->taken);
  napi_value name, handle;
  napi_create_string_utf8(env, "s7supervisor relay", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, r, news_finalized, r, call_without_arguments, &r->news) !=
      napi_ok) {
    r->refs = 0;
    unref_relay(r);
    napi_throw_error(env, NULL, "relayStart: napi_create_threadsafe_function failed");
    return NULL;
  }
  // the news function keeps the loop alive while the relay runs, as the pipe's socket did: the
  // supervisor exits by process.exit(), never by waiting on it
  uv_thread_options_t options = {UV_THREAD_HAS_STACK_SIZE, THREAD_STACK};
  int err = uv_thread_create_ex(&r->thread, &options, relay_main, r);
  if (err != 0) {
    // no thread: the fd stays the caller's, and the news function goes (its finalizer frees r)
    r->refs = 1;
    napi_release_threadsafe_function(r->news, napi_tsfn_abort);
    throw_errno(env, "relayStart", -err);
    return NULL;
  }
  r->thread_started = 1;
  if (napi_create_external(env, r, handle_finalized, NULL, &handle) != napi_ok) {
    // the thread runs and owns the fd now: stop it (its end frees r but for this handle's share)
    r->refs--;
    __atomic_store_n(&r->stopping, 1, __ATOMIC_RELEASE);
    uint64_t one = 1;
    ssize_t written = write(r->wake, &one, sizeof one);
    (void)written;
    napi_throw_error(env, "ERELAY", "relayStart: napi_create_external failed (the relay closes the pipe)");
    return NULL;
  }
  return handle;
}

// relayTake(handle, out: Buffer, keepLines) -> [length, flags, dropped]: what went by since the
// last take copied to the start of `out`, NEWS_* flags, and bytes that could not be written; or
// -(length needed) when `out` is too small (nothing taken). keepLines: as relayStart's, for what
// comes next (-1 while someone follows: then every line, and the relay waits for the takes).
napi_value relay_take(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 3;
  napi_value argv[3];
  relay *r;
  void *out;
  size_t capacity;
  int32_t keep;
  bool is_buffer = false;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      !(r = get_relay(env, argv[0])) || napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[1], &out, &capacity) != napi_ok ||
      napi_get_value_int32(env, argv[2], &keep) != napi_ok) {
    napi_throw_type_error(env, NULL, "relayTake(handle, out, keepLines)");
    return NULL;
  }
  napi_value result;
  uv_mutex_lock(&r->lock);
  r->keep_lines = keep;
  const size_t length = r->observed_length;
  if (length > capacity) {
    uv_mutex_unlock(&r->lock);
    napi_create_int64(env, -(int64_t)length, &result);
    return result;
  }
  memcpy(out, r->observed, length);
  const int flags = r->flags;
  const double dropped = r->dropped;
  r->observed_length = 0;
  r->flags &= NEWS_ENDED;  // the end is told every time from then on
  r->dropped = 0;
  r->notified = 0;
  r->untold = 0;
  if (r->observed_capacity > OBSERVED_RETAINED) {
    free(r->observed);
    r->observed = NULL;
    r->observed_capacity = 0;
  }
  uv_cond_signal(&r->taken);
  uv_mutex_unlock(&r->lock);
  napi_value length_value, flags_value, dropped_value;
  napi_create_array_with_length(env, 3, &result);
  napi_create_int64(env, (int64_t)length, &length_value);
  napi_create_int32(env, flags, &flags_value);
  napi_create_double(env, dropped, &dropped_value);
  napi_set_element(env, result, 0, length_value);
  napi_set_element(env, result, 1, flags_value);
  napi_set_element(env, result, 2, dropped_value);
  return result;
}

// relayStop(handle): stop reading now (a process outside the component's group holds the pipe):
// the partial line is let out if the destination takes it at once, and the end is told as usual
napi_value relay_stop(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value argv[1];
  relay *r;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      !(r = get_relay(env, argv[0]))) {
    napi_throw_type_error(env, NULL, "relayStop(handle)");
    return NULL;
  }
  __atomic_store_n(&r->stopping, 1, __ATOMIC_RELEASE);
  uint64_t one = 1;
  ssize_t written = write(r->wake, &one, sizeof one);
  (void)written;
  uv_mutex_lock(&tokens_lock);
  uv_cond_broadcast(&token_released);
  uv_mutex_unlock(&tokens_lock);
  uv_mutex_lock(&r->lock);
  uv_cond_broadcast(&r->taken);
  uv_mutex_unlock(&r->lock);
  return NULL;
}

// claimOutput(fd, onGranted) -> true: the token of fd is JavaScript's until releaseOutput(fd);
// false: a relay is writing to fd, and onGranted() will be called once the token is JavaScript's
// (the same onGranted for every call on fd: the first one's is kept).
napi_value claim_output(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  napi_valuetype callback_type;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_typeof(env, argv[1], &callback_type) != napi_ok ||
      callback_type != napi_function) {
    napi_throw_type_error(env, NULL, "claimOutput(fd, onGranted)");
    return NULL;
  }
  uv_once(&tokens_once, init_tokens);
  uv_mutex_lock(&tokens_lock);
  destination *d = find_destination(fd);
  int granted = 1;
  if (d) {
    if (!d->granted) {
      napi_value name;
      napi_create_string_utf8(env, "s7supervisor output token", NAPI_AUTO_LENGTH, &name);
      if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, NULL, call_without_arguments,
                                          &d->granted) == napi_ok)
        napi_unref_threadsafe_function(env, d->granted);
      else
        d->granted = NULL;
    }
    if (d->owner == OWNER_NONE || d->owner == OWNER_JS) d->owner = OWNER_JS;
    else if (d->granted) {
      d->js_waiting = 1;
      granted = 0;
    }
    // without a way to be told (no function could be made), JavaScript writes anyway: a line
    // may then interleave, which is better than never writing
  }
  uv_mutex_unlock(&tokens_lock);
  napi_value result;
  napi_get_boolean(env, granted, &result);
  return result;
}

// releaseOutput(fd): JavaScript handed everything it held to the OS; relays may write again
napi_value release_output(napi_env env, napi_callback_info cbinfo) {
  int32_t fd;
  if (!get_one_int32(env, cbinfo, &fd)) {
    napi_throw_type_error(env, NULL, "releaseOutput(fd)");
    return NULL;
  }
  uv_once(&tokens_once, init_tokens);
  uv_mutex_lock(&tokens_lock);
  for (int i = 0; i < destination_count; i++)
    if (destinations[i].fd == fd && destinations[i].owner == OWNER_JS) pass_token(&destinations[i]);
  uv_mutex_unlock(&tokens_lock);
  return NULL;
}

// relayFollow(on: 0 | 1): someone follows the logs (1), or no one does any more (0)
napi_value relay_follow(napi_env env, napi_callback_info cbinfo) {
  int32_t on;
  if (!get_one_int32(env, cbinfo, &on)) {
    napi_throw_type_error(env, NULL, "relayFollow(on)");
    return NULL;
  }
  __atomic_store_n(&followed, on ? 1 : 0, __ATOMIC_RELEASE);
  return NULL;
}
