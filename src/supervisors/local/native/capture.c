/*
 * autosentry's native capture helper: a C port of the Bun capture shim (../shim.ts, ../subreaper.ts),
 * speaking exactly the protocol of ../protocol.ts. It exists for one reason: an idle Bun runtime costs
 * ~40 MB of resident memory, this process well under 1 MB (issue 13: the monitor plus its capture
 * process must not need more memory than PM2's daemon). The monitor uses it where the build embeds
 * one for the platform (capture-impl.ts) and falls back to the Bun shim otherwise.
 *
 * Invocation (the same arguments as the Bun shim, so the monitor's orphan search finds both):
 *   capture __shim --serve --log FILE --max-line N --log-max-bytes N --log-backups N
 *   capture __shim --generation N --log FILE --exit-file FILE --max-line N --log-max-bytes N
 *           --log-backups N -- COMMAND [ARG...]
 *   capture __probe          prints "autosentry-capture <protocol>" (the monitor's "does it run here")
 *
 * One thread, one poll loop: the child's two pipes, the frame queue to the monitor (fd 1, made
 * non-blocking) and, between generations, the request lines on stdin. SIGCHLD is blocked except
 * inside ppoll, so a child's exit wakes the loop. Behaviour kept identical to shim.ts:
 * - process.log gets the child's bytes as written, whole lines, rotated by size (file -> file.1 ...),
 *   resuming on a line boundary after a failed write or in a file an earlier process left;
 * - line frames are dropped (and counted in a D frame) once 8 MB are queued for a monitor that does
 *   not read; after EPIPE everything is discarded, the child keeps running and is still logged;
 * - SIGTERM/SIGINT/SIGHUP/SIGUSR1/SIGUSR2 sent to the group are for the child: this process catches
 *   them with an empty handler (so the child, after exec, has default dispositions);
 * - after the child exits: leftovers in the group are ended (TERM, 2 s, KILL), descendants that left
 *   the group (setsid) come back to this child subreaper and are reported and ended, and the exit
 *   file is written (write + rename, no fsync; this process never deletes an exit file: the monitor
 *   deletes it after recording the exit).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROTOCOL "1"
/* linux/close_range.h; not in every libc's headers */
#define CLOSE_RANGE_CLOEXEC_FLAG (1U << 2)
#define DRAIN_MS 1000
#define LEFTOVER_GRACE_MS 2000
#define FORWARD_QUEUE_MAX (8 * 1024 * 1024)
#define FINAL_FLUSH_MS 2000
#define READ_CHUNK 65536
#define CUT_MARKER " \xe2\x80\xa6[autosentry: line cut, rest dropped]"

static const char USAGE[] =
    "usage: autosentry __shim --generation N --log FILE --exit-file FILE --max-line N "
    "--log-max-bytes N --log-backups N -- COMMAND [ARG...]";
static const char SERVE_USAGE[] =
    "usage: autosentry __shim --serve --log FILE --max-line N --log-max-bytes N --log-backups N "
    "(then one JSON generation request per line on stdin)";

/* ---------------------------------------------------------------- small utilities */

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    static const char m[] = "autosentry __shim: out of memory\n";
    (void)!write(2, m, sizeof m - 1);
    _exit(70);
  }
  return p;
}
static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    free(p);
    return xmalloc(n);
  }
  return q;
}
static char *xstrdup(const char *s) {
  size_t n = strlen(s);
  char *p = xmalloc(n + 1);
  memcpy(p, s, n + 1);
  return p;
}

/** A growable byte buffer. */
typedef struct {
  char *p;
  size_t len, cap;
} Buf;

static void buf_reserve(Buf *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra) cap *= 2;
  b->p = xrealloc(b->p, cap);
  b->cap = cap;
}
static void buf_add(Buf *b, const void *d, size_t n) {
  buf_reserve(b, n);
  memcpy(b->p + b->len, d, n);
  b->len += n;
}
static void buf_addc(Buf *b, char c) { buf_add(b, &c, 1); }
static void buf_adds(Buf *b, const char *s) { buf_add(b, s, strlen(s)); }
static void buf_printf(Buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  buf_reserve(b, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}
static void buf_free(Buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}
/** A NUL-terminated copy of the contents. */
static char *buf_cstr(Buf *b) {
  buf_addc(b, 0);
  b->len--;
  return b->p;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

/** `new Date(ms).toISOString()` */
static void iso_time(int64_t ms, char out[80]) {
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/** Node's error text: `ENOSPC: no space left on device, write`. */
static void errno_text(int err, const char *syscall_name, char *out, size_t n) {
  const char *name = strerrorname_np(err);
  char msg[128];
  snprintf(msg, sizeof msg, "%s", strerror(err));
  for (char *c = msg; *c; c++) *c = (char)tolower((unsigned char)*c);
  snprintf(out, n, "%s: %s, %s", name ? name : "E?", msg, syscall_name);
}

struct SigName {
  int n;
  const char *name;
};
static const struct SigName SIGNAMES[] = {
    {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},       {SIGQUIT, "SIGQUIT"},   {SIGILL, "SIGILL"},
    {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},     {SIGBUS, "SIGBUS"},     {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"},   {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},     {SIGTERM, "SIGTERM"},   {SIGSTKFLT, "SIGSTKFLT"},
    {SIGCHLD, "SIGCHLD"}, {SIGCONT, "SIGCONT"},     {SIGSTOP, "SIGSTOP"},   {SIGTSTP, "SIGTSTP"},
    {SIGTTIN, "SIGTTIN"}, {SIGTTOU, "SIGTTOU"},     {SIGURG, "SIGURG"},     {SIGXCPU, "SIGXCPU"},
    {SIGXFSZ, "SIGXFSZ"}, {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"},   {SIGWINCH, "SIGWINCH"},
    {SIGIO, "SIGIO"},     {SIGPWR, "SIGPWR"},       {SIGSYS, "SIGSYS"},
};
static const char *signal_name(int n) {
  for (size_t i = 0; i < sizeof SIGNAMES / sizeof SIGNAMES[0]; i++)
    if (SIGNAMES[i].n == n) return SIGNAMES[i].name;
  return NULL;
}

/* ---------------------------------------------------------------- /proc */

typedef struct {
  char state;
  int ppid, pgrp;
} ProcStat;

static int read_small(const char *file, char *out, size_t n) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = 0;
  for (;;) {
    ssize_t r = read(fd, out + len, n - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
    if (len >= n - 1) break;
  }
  close(fd);
  out[len] = 0;
  return (int)len;
}

static int read_stat(int pid, ProcStat *st) {
  char file[64], text[1024];
  snprintf(file, sizeof file, "/proc/%d/stat", pid);
  if (read_small(file, text, sizeof text) <= 0) return -1;
  char *close_paren = strrchr(text, ')');
  if (!close_paren || close_paren[1] == 0) return -1;
  char state;
  int ppid, pgrp;
  if (sscanf(close_paren + 2, "%c %d %d", &state, &ppid, &pgrp) != 3) return -1;
  st->state = state;
  st->ppid = ppid;
  st->pgrp = pgrp;
  return 0;
}
static int dead_state(char s) { return s == 'Z' || s == 'X' || s == 'x'; }

typedef struct {
  int *v;
  size_t n, cap;
} Pids;
static void pids_add(Pids *p, int pid) {
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 16;
    p->v = xrealloc(p->v, p->cap * sizeof(int));
  }
  p->v[p->n++] = pid;
}
static int pids_has(const Pids *p, int pid) {
  for (size_t i = 0; i < p->n; i++)
    if (p->v[i] == pid) return 1;
  return 0;
}

/** Live members of group `pgid` (every process in /proc; proc.ts groupMembers). */
static void group_members(int pgid, Pids *out) {
  out->n = 0;
  DIR *d = opendir("/proc");
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    int pid = atoi(e->d_name);
    ProcStat st;
    if (read_stat(pid, &st) == 0 && st.pgrp == pgid && !dead_state(st.state)) pids_add(out, pid);
  }
  closedir(d);
}

/** Children of `pid` (every thread's); zombies of our own are reaped and left out when `self`. */
static void children_of(int pid, Pids *out, int self) {
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%d/task", pid);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  Pids found = {0};
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char file[400], text[8192];
    snprintf(file, sizeof file, "%s/%s/children", dir, e->d_name);
    if (read_small(file, text, sizeof text) <= 0) continue;
    char *s = text;
    while (*s) {
      while (*s == ' ' || *s == '\n') s++;
      if (!*s) break;
      int c = (int)strtol(s, &s, 10);
      if (c > 0 && !pids_has(&found, c)) pids_add(&found, c);
    }
  }
  closedir(d);
  for (size_t i = 0; i < found.n; i++) {
    ProcStat st;
    if (read_stat(found.v[i], &st) != 0) continue;
    if (st.state == 'Z') {
      if (self) waitpid(found.v[i], NULL, WNOHANG);
      continue;
    }
    pids_add(out, found.v[i]);
  }
  free(found.v);
}

/** Every live descendant of this process (subreaper.ts descendants). */
static void descendants(Pids *out) {
  out->n = 0;
  Pids todo = {0};
  children_of(getpid(), &todo, 1);
  while (todo.n > 0) {
    int p = todo.v[--todo.n];
    pids_add(out, p);
    children_of(p, &todo, 0);
  }
  free(todo.v);
}

static void command_of(int pid, char *out, size_t n) {
  char file[64], text[4096];
  snprintf(file, sizeof file, "/proc/%d/cmdline", pid);
  int len = read_small(file, text, sizeof text);
  if (len <= 0) {
    snprintf(out, n, "?");
    return;
  }
  /* argv joined by spaces (empty arguments left out, as subreaper.ts does), cut at 200 characters */
  Buf b = {0};
  int i = 0;
  while (i < len) {
    size_t l = strlen(text + i);
    if (l > 0) {
      if (b.len > 0) buf_addc(&b, ' ');
      buf_add(&b, text + i, l);
    }
    i += (int)l + 1;
  }
  if (b.len > 200) b.len = 200;
  snprintf(out, n, "%s", b.len ? buf_cstr(&b) : "?");
  buf_free(&b);
}

/* ---------------------------------------------------------------- frames to the monitor (fd 1) */

typedef struct {
  Buf q; /* queued bytes; q.p[head..len) not yet written */
  size_t head;
  long long dropped;
  int broken;
} FrameWriter;

static FrameWriter out;

static void fw_write(void) {
  while (!out.broken && out.head < out.q.len) {
    ssize_t n = write(1, out.q.p + out.head, out.q.len - out.head);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      out.broken = 1;
      out.q.len = out.head = 0;
      return;
    }
    out.head += (size_t)n;
  }
  if (out.head == out.q.len) {
    out.q.len = out.head = 0;
    if (out.q.cap > 1024 * 1024) { /* give a flood's memory back */
      free(out.q.p);
      out.q.p = NULL;
      out.q.cap = 0;
    }
  } else if (out.head > out.q.len / 2 && out.head > 65536) {
    memmove(out.q.p, out.q.p + out.head, out.q.len - out.head);
    out.q.len -= out.head;
    out.head = 0;
  }
}
static size_t fw_queued(void) { return out.q.len - out.head; }
static void fw_push(const char *d, size_t n) {
  if (out.dropped > 0) {
    char hdr[32];
    int l = snprintf(hdr, sizeof hdr, "D%lld\n", out.dropped);
    buf_add(&out.q, hdr, (size_t)l);
    out.dropped = 0;
  }
  buf_add(&out.q, d, n);
  fw_write();
}
/** A batch holding `lines` child lines; dropped (and counted) when 8 MB are already queued. */
static void fw_send(const char *d, size_t n, long lines) {
  if (out.broken) return;
  if (fw_queued() >= FORWARD_QUEUE_MAX) {
    out.dropped += lines;
    return;
  }
  fw_push(d, n);
}
/** Frames that must not be dropped (start, exit, warnings). */
static void fw_send_always(const char *d, size_t n) {
  if (out.broken) return;
  fw_push(d, n);
}
static int fw_pending(void) { return !out.broken && fw_queued() > 0; }

/* ---------------------------------------------------------------- warnings */

static void warn(const char *fmt, ...) {
  Buf m = {0};
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  buf_reserve(&m, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(m.p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  m.len = (size_t)n;
  Buf e = {0};
  buf_adds(&e, "autosentry __shim: ");
  buf_add(&e, m.p, m.len);
  buf_addc(&e, '\n');
  (void)!write(2, e.p, e.len);
  buf_free(&e);
  /* W<msg> with runs of \r and \n made one space */
  Buf f = {0};
  buf_addc(&f, 'W');
  for (size_t i = 0; i < m.len; i++) {
    if (m.p[i] == '\r' || m.p[i] == '\n') {
      while (i + 1 < m.len && (m.p[i + 1] == '\r' || m.p[i + 1] == '\n')) i++;
      buf_addc(&f, ' ');
    } else {
      buf_addc(&f, m.p[i]);
    }
  }
  buf_addc(&f, '\n');
  fw_send_always(f.p, f.len);
  buf_free(&f);
  buf_free(&m);
}

/* ---------------------------------------------------------------- process.log */

typedef struct {
  char *file;
  long long max_bytes;
  int backups;
  int fd;
  unsigned long long ino;
  long long size;
  int failing, fresh;
} ProcessLog;

static ProcessLog plog;

/** Fails with errno set, or with *why filled for a refused symlink. */
static int mkdir_no_follow(const char *dir, char *why, size_t n) {
  struct stat st;
  if (lstat(dir, &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      snprintf(why, n, "Refusing to write %s: it is a symbolic link (autosentry never writes through one)", dir);
      return -1;
    }
    return 0;
  }
  /* mkdir -p */
  char *copy = xstrdup(dir);
  for (char *s = copy + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(copy, 0777) < 0 && errno != EEXIST) {
      int e = errno;
      errno_text(e, "mkdir", why, n);
      free(copy);
      return -1;
    }
    *s = '/';
  }
  int r = mkdir(copy, 0777);
  if (r < 0 && errno != EEXIST) {
    errno_text(errno, "mkdir", why, n);
    free(copy);
    return -1;
  }
  free(copy);
  return 0;
}

static char *dir_of(const char *file) {
  char *d = xstrdup(file);
  char *slash = strrchr(d, '/');
  if (slash == d)
    slash[1] = 0;
  else if (slash)
    *slash = 0;
  else
    snprintf(d, strlen(file) + 1, ".");
  return d;
}

static int plog_open(char *why, size_t n) {
  char *dir = dir_of(plog.file);
  int r = mkdir_no_follow(dir, why, n);
  free(dir);
  if (r < 0) return -1;
  int fd = open(plog.file, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == ELOOP)
      snprintf(why, n, "Refusing to write %s: it is a symbolic link (autosentry never writes through one)",
               plog.file);
    else
      errno_text(errno, "open", why, n);
    return -1;
  }
  struct stat st;
  fstat(fd, &st);
  plog.fd = fd;
  plog.ino = (unsigned long long)st.st_ino;
  plog.size = (long long)st.st_size;
  plog.fresh = 1;
  return 0;
}

static void plog_close(void) {
  if (plog.fd >= 0) close(plog.fd);
  plog.fd = -1;
}

static int plog_ends_with_newline(void) {
  char c;
  if (pread(plog.fd, &c, 1, plog.size - 1) != 1) return 1;
  return c == '\n';
}

/** write(2) all of it; -1 with `why` on an error or a short write. */
static int write_all(int fd, const char *d, size_t n, long long *size, char *why, size_t wn) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(fd, d + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      errno_text(errno, "write", why, wn);
      return -1;
    }
    if (w == 0) break;
    done += (size_t)w;
    *size += w;
  }
  if (done < n) {
    snprintf(why, wn, "short write (%zu of %zu bytes): no space left on device?", done, n);
    return -1;
  }
  return 0;
}

static int plog_rotate(char *why, size_t n) {
  if (plog.backups == 0) {
    if (ftruncate(plog.fd, 0) < 0) {
      errno_text(errno, "ftruncate", why, n);
      return -1;
    }
    plog.size = 0;
    return 0;
  }
  plog_close();
  size_t fl = strlen(plog.file) + 24;
  char *a = xmalloc(fl), *b = xmalloc(fl);
  for (int i = plog.backups - 1; i >= 1; i--) {
    snprintf(a, fl, "%s.%d", plog.file, i);
    snprintf(b, fl, "%s.%d", plog.file, i + 1);
    rename(a, b);
  }
  snprintf(a, fl, "%s.1", plog.file);
  int r = rename(plog.file, a);
  int e = errno;
  free(a);
  free(b);
  if (r < 0) {
    errno_text(e, "rename", why, n);
    return -1;
  }
  return plog_open(why, n);
}

/** Write a batch across rotations, splitting it only at line ends (shim.ts writeSplit). */
static int plog_write_split(const char *d, size_t len, char *why, size_t wn) {
  size_t from = 0;
  while (from < len) {
    long long room = plog.max_bytes - plog.size;
    size_t end = len;
    if ((long long)(end - from) > room) {
      long long nl = -1;
      if (room > 0) {
        for (long long i = (long long)from + room - 1; i >= (long long)from; i--)
          if (d[i] == '\n') {
            nl = i;
            break;
          }
      }
      if (nl >= (long long)from) {
        end = (size_t)nl + 1;
      } else if (plog.size > 0) {
        if (plog_rotate(why, wn) < 0) return -1;
        continue;
      } else {
        /* One line longer than the whole file bound: it gets a file of its own. */
        const char *first = memchr(d + from, '\n', len - from);
        end = first ? (size_t)(first - d) + 1 : len;
      }
    }
    if (write_all(plog.fd, d + from, end - from, &plog.size, why, wn) < 0) return -1;
    from = end;
    if (plog.size >= plog.max_bytes && from < len) {
      if (plog_rotate(why, wn) < 0) return -1;
    }
  }
  return 0;
}

/** Append whole lines (`d` ends with `\n`); rotated before the file would exceed its bound. */
static void plog_write(const char *d, size_t len) {
  char why[512];
  why[0] = 0;
  int ok = 0;
  Buf tmp = {0};
  do {
    if (plog.fd < 0 && plog_open(why, sizeof why) < 0) break;
    /* After a failed write (a full disk), or in a file an earlier capture process left, the file may
       end in half a line: resume on a line boundary. */
    if ((plog.failing || plog.fresh) && plog.size > 0 && !plog_ends_with_newline()) {
      buf_addc(&tmp, '\n');
      buf_add(&tmp, d, len);
      d = tmp.p;
      len = tmp.len;
    }
    if (plog.size + (long long)len <= plog.max_bytes) {
      if (write_all(plog.fd, d, len, &plog.size, why, sizeof why) < 0) break;
    } else if (plog_write_split(d, len, why, sizeof why) < 0) {
      break;
    }
    plog.failing = 0;
    plog.fresh = 0;
    if (plog.size >= plog.max_bytes && plog_rotate(why, sizeof why) < 0) break;
    ok = 1;
  } while (0);
  buf_free(&tmp);
  if (!ok) {
    /* Disk full or the directory vanished: keep forwarding, say so once, retry on the next batch. */
    if (!plog.failing) warn("Cannot write %s: %s", plog.file, why[0] ? why : "unknown error");
    plog.failing = 1;
    plog_close();
  }
}

static void offset_frame(Buf *b) { buf_printf(b, "Z%llu:%lld\n", plog.ino, plog.size); }

/* ---------------------------------------------------------------- line splitting (util/lines.ts) */

typedef struct {
  int fd;
  char tag;
  char *pending;
  size_t plen;
  int dropping, skip_lf, eof;
} Stream;

static long max_line = 65536;
static Buf batch_log, batch_frames;
static long batch_lines;

static void emit_line(Stream *s, const char *a, size_t an, const char *b, size_t bn, int cut) {
  buf_add(&batch_log, a, an);
  buf_add(&batch_log, b, bn);
  if (cut) buf_adds(&batch_log, CUT_MARKER);
  buf_addc(&batch_log, '\n');
  buf_addc(&batch_frames, s->tag);
  buf_add(&batch_frames, a, an);
  buf_add(&batch_frames, b, bn);
  if (cut) buf_adds(&batch_frames, CUT_MARKER);
  buf_addc(&batch_frames, '\n');
  batch_lines++;
}

/** A complete line `c[from..to)` (plus what is pending) */
static void split_finish(Stream *s, const char *c, size_t from, size_t to) {
  if (s->dropping) {
    s->dropping = 0;
    s->plen = 0;
    return;
  }
  size_t total = s->plen + (to - from);
  if (total > (size_t)max_line) {
    /* cut at max_line bytes */
    if (s->plen >= (size_t)max_line)
      emit_line(s, s->pending, (size_t)max_line, "", 0, 1);
    else
      emit_line(s, s->pending, s->plen, c + from, (size_t)max_line - s->plen, 1);
  } else {
    emit_line(s, s->pending, s->plen, c + from, to - from, 0);
  }
  s->plen = 0;
}

static void split_pending(Stream *s, const char *c, size_t from, size_t to) {
  if (s->dropping) return;
  size_t room = (size_t)max_line - s->plen;
  if (to - from <= room) {
    memcpy(s->pending + s->plen, c + from, to - from);
    s->plen += to - from;
    return;
  }
  emit_line(s, s->pending, s->plen, c + from, room, 1);
  s->plen = 0;
  s->dropping = 1;
}

static void split_push(Stream *s, const char *c, size_t n) {
  size_t i = 0;
  if (s->skip_lf) {
    s->skip_lf = 0;
    if (n > 0 && c[0] == '\n') i = 1;
  }
  while (i < n) {
    size_t end = i;
    while (end < n && c[end] != '\n' && c[end] != '\r') end++;
    if (end == n) {
      split_pending(s, c, i, n);
      return;
    }
    size_t next = end + 1;
    if (c[end] == '\r') {
      if (next < n) {
        if (c[next] == '\n') next++;
      } else {
        s->skip_lf = 1;
      }
    }
    split_finish(s, c, i, end);
    i = next;
  }
}

static void split_end(Stream *s) {
  if (!s->dropping && s->plen > 0) emit_line(s, s->pending, s->plen, "", 0, 0);
  s->plen = 0;
  s->dropping = 0;
  s->skip_lf = 0;
}

/** Hand the lines split so far to process.log and the monitor (one batch, then its Z frame). */
static void deliver(void) {
  if (batch_lines == 0) return;
  plog_write(batch_log.p, batch_log.len);
  offset_frame(&batch_frames);
  fw_send(batch_frames.p, batch_frames.len, batch_lines);
  batch_log.len = 0;
  batch_frames.len = 0;
  batch_lines = 0;
  if (batch_log.cap > 4 * 1024 * 1024) buf_free(&batch_log);
  if (batch_frames.cap > 4 * 1024 * 1024) buf_free(&batch_frames);
}

/* ---------------------------------------------------------------- the event loop */

static volatile sig_atomic_t got_chld;
static sigset_t loop_mask; /* the mask inside ppoll: SIGCHLD deliverable */
static Stream streams[2];
static int child_pid = -1;
static int child_status;
static int child_done;
static char *readbuf;

static void on_chld(int sig) {
  (void)sig;
  got_chld = 1;
}
static void on_ignored(int sig) { (void)sig; }

/** Reap every exited child; remember the generation's own. */
static void reap_all(void) {
  got_chld = 0;
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, WNOHANG);
    if (p <= 0) break;
    if (p == child_pid && !child_done) {
      child_status = st;
      child_done = 1;
    }
  }
}

static void read_stream(Stream *s) {
  for (;;) {
    ssize_t n = read(s->fd, readbuf, READ_CHUNK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      split_end(s);
      deliver();
      close(s->fd);
      s->fd = -1;
      s->eof = 1;
      return;
    }
    split_push(s, readbuf, (size_t)n);
    deliver();
    return; /* one chunk per wake-up, as each stream gets its turn */
  }
}

/**
 * Run the loop for up to `ms` (forever when < 0) or until `until()` holds: pump the child's output,
 * write queued frames, reap children. With `stdin_line`, also return when stdin is readable.
 */
static int stdin_ready;
static void loop_for(int ms, int (*until)(void), int watch_stdin) {
  int64_t end = ms < 0 ? INT64_MAX : mono_ms() + ms;
  stdin_ready = 0;
  for (;;) {
    if (got_chld) reap_all();
    if (until && until()) return;
    int64_t left = end - mono_ms();
    if (left <= 0) return;
    struct pollfd pf[4];
    int np = 0, si[2] = {-1, -1}, oi = -1, ii = -1;
    for (int k = 0; k < 2; k++)
      if (streams[k].fd >= 0) {
        si[k] = np;
        pf[np++] = (struct pollfd){streams[k].fd, POLLIN, 0};
      }
    if (fw_pending()) {
      oi = np;
      pf[np++] = (struct pollfd){1, POLLOUT, 0};
    }
    if (watch_stdin) {
      ii = np;
      pf[np++] = (struct pollfd){0, POLLIN, 0};
    }
    /* No timeout when waiting without a bound: an idle capture process never wakes up by itself
       (a stuck monitor's socket is retried on POLLOUT, a child's exit arrives as SIGCHLD). */
    struct timespec ts = {left / 1000, (long)(left % 1000) * 1000000L};
    int r = ppoll(pf, (nfds_t)np, ms < 0 ? NULL : &ts, &loop_mask);
    if (r < 0) {
      if (errno == EINTR) continue;
      sleep_ms(10);
      continue;
    }
    for (int k = 0; k < 2; k++)
      if (si[k] >= 0 && (pf[si[k]].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) read_stream(&streams[k]);
    if (oi >= 0 && (pf[oi].revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))) fw_write();
    if (ii >= 0 && pf[ii].revents) {
      stdin_ready = 1;
      return;
    }
  }
}

static int cond_child_done(void) { return child_done; }
static int cond_drained(void) { return streams[0].fd < 0 && streams[1].fd < 0; }
static int cond_flushed(void) { return !fw_pending(); }

/* getpgrp(), not /proc/self/stat: the same answer with one system call instead of four and a parse,
   twice on the way from each exit to its X frame. */
static int leads_group(void) { return getpgrp() == getpid(); }

/** proc.ts killGroupGracefully with `spare` = this process (it gets the SIGTERM and ignores it). */
static Pids kg_left;
static int kg_pgid;
static int cond_group_gone(void) {
  Pids m = {0};
  group_members(kg_pgid, &m);
  kg_left.n = 0;
  for (size_t i = 0; i < m.n; i++)
    if (m.v[i] != getpid()) pids_add(&kg_left, m.v[i]);
  free(m.v);
  return kg_left.n == 0;
}
/* Poll in steps (the loop keeps pumping output while waiting). */
static void wait_until(int ms, int step, int (*cond)(void)) {
  int64_t end = mono_ms() + ms;
  while (!cond()) {
    int64_t left = end - mono_ms();
    if (left <= 0) return;
    loop_for(left < step ? (int)left : step, NULL, 0);
  }
}
static void kill_group_gracefully(int pgid, int grace_ms) {
  kg_pgid = pgid;
  if (kill(-pgid, SIGTERM) < 0) return;
  kill(-pgid, SIGCONT);
  wait_until(grace_ms, 50, cond_group_gone);
  if (cond_group_gone()) return;
  int64_t end = mono_ms() + 5000;
  for (;;) {
    for (size_t i = 0; i < kg_left.n; i++) kill(kg_left.v[i], SIGKILL);
    loop_for(50, NULL, 0);
    if (cond_group_gone() || mono_ms() >= end) break;
  }
}

/** subreaper.ts endEscaped: report and end what is still parented to us. */
static Pids esc_pids;
static int cond_escaped_gone(void) {
  Pids own = {0};
  children_of(getpid(), &own, 1);
  int any = 0;
  for (size_t i = 0; i < own.n && !any; i++)
    if (pids_has(&esc_pids, own.v[i])) any = 1;
  free(own.v);
  return !any;
}
static void end_escaped(int grace_ms, Buf *report, int *count) {
  Pids seen = {0};
  for (int round = 0; round < 10; round++) {
    Pids own = {0};
    children_of(getpid(), &own, 1);
    esc_pids.n = 0;
    for (size_t i = 0; i < own.n; i++)
      if (!pids_has(&seen, own.v[i])) pids_add(&esc_pids, own.v[i]);
    free(own.v);
    if (esc_pids.n == 0) break;
    for (size_t i = 0; i < esc_pids.n; i++) {
      int p = esc_pids.v[i];
      pids_add(&seen, p);
      char cmd[256];
      command_of(p, cmd, sizeof cmd);
      if (report->len > 0) buf_adds(report, ", ");
      buf_printf(report, "%d (%s)", p, cmd);
      (*count)++;
      kill(p, SIGTERM);
    }
    wait_until(grace_ms, 20, cond_escaped_gone);
    Pids own2 = {0};
    children_of(getpid(), &own2, 1);
    for (size_t i = 0; i < own2.n; i++)
      if (pids_has(&esc_pids, own2.v[i])) kill(own2.v[i], SIGKILL);
    free(own2.v);
    wait_until(2000, 20, cond_escaped_gone);
  }
  free(seen.v);
}

/* ---------------------------------------------------------------- starting the child */

typedef struct {
  long long generation;
  char **argv; /* NULL-terminated */
  char *cwd;   /* NULL: ours */
  char **env;  /* NULL-terminated; NULL: ours */
  char *exit_file;
} Request;

static void free_strv(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}
static void free_request(Request *r) {
  free_strv(r->argv);
  free_strv(r->env);
  free(r->cwd);
  free(r->exit_file);
  memset(r, 0, sizeof *r);
}

static const char *env_get(char **env, const char *key) {
  size_t kl = strlen(key);
  for (char **e = env; e && *e; e++)
    if (strncmp(*e, key, kl) == 0 && (*e)[kl] == '=') return *e + kl + 1;
  return NULL;
}

/** Resolve a command the way Bun.spawn does: through the child's PATH (falling back to ours). */
static char *resolve_command(const char *cmd, char **env, const char *cwd) {
  if (strchr(cmd, '/')) return xstrdup(cmd);
  const char *path = env_get(env, "PATH");
  if (!path) path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  const char *s = path;
  for (;;) {
    const char *colon = strchr(s, ':');
    size_t dl = colon ? (size_t)(colon - s) : strlen(s);
    Buf cand = {0};
    if (dl == 0) {
      buf_adds(&cand, ".");
    } else {
      buf_add(&cand, s, dl);
    }
    buf_addc(&cand, '/');
    buf_adds(&cand, cmd);
    char *c = buf_cstr(&cand);
    /* a relative PATH entry is relative to the child's working directory */
    Buf full = {0};
    if (c[0] != '/' && cwd) {
      buf_adds(&full, cwd);
      buf_addc(&full, '/');
    }
    buf_adds(&full, c);
    struct stat st;
    int ok = stat(buf_cstr(&full), &st) == 0 && S_ISREG(st.st_mode) && access(full.p, X_OK) == 0;
    buf_free(&full);
    if (ok) return c;
    buf_free(&cand);
    if (!colon) break;
    s = colon + 1;
  }
  return NULL;
}

static void cloexec_nonblock(int fd) {
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* /dev/null, opened once (close-on-exec) and dup2'ed onto each child's stdin; -1: opened per child. */
static int devnull_fd = -1;
/* The signals whose disposition is not the default here (caught or ignored), found once at the end
   of setup, which is the only place this process changes one: the child resets these, 5-8 system
   calls instead of one per signal (64). */
static int changed_signals[NSIG];
static int n_changed_signals;

/** What the child of spawn_child works with; it shares this process's memory until its exec. */
typedef struct {
  const char *file;
  char **argv, **env;
  const char *cwd;
  int out, err;      /* the child's ends of the two sockets */
  volatile int stage; /* set by the child when a step failed: 1 dup2, 2 chdir, 3 exec */
  volatile int errnum;
} SpawnArgs;

/* The child's stack: it runs on its own (clone with CLONE_VM), never on this process's. It needs a
   few hundred bytes (system call wrappers); the pages untouched stay unallocated. */
static char spawn_stack[64 * 1024] __attribute__((aligned(16)));

/**
 * The child, between clone and exec: only system calls (async-signal-safe, no malloc, no stdio),
 * every signal blocked on entry. Default dispositions first (a handler of this process must never
 * run in the child: it shares our memory; and an ignored signal stays ignored across exec), then
 * nothing blocked, stdin /dev/null, stdout and stderr the sockets, the working directory, nothing
 * above 2.
 */
static int spawn_child_main(void *p) {
  SpawnArgs *a = p;
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int i = 0; i < n_changed_signals; i++) sigaction(changed_signals[i], &dfl, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  int stage = 0;
  int devnull = devnull_fd >= 0 ? devnull_fd : open("/dev/null", O_RDONLY);
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(a->out, 1) < 0 || dup2(a->err, 2) < 0) stage = 1;
  if (!stage && a->cwd && chdir(a->cwd) < 0) stage = 2;
  if (!stage) {
    /* Nothing above 2 reaches the program: one close_range marking them all close-on-exec (the
       fd table is the child's own: no CLONE_FILES), else (before Linux 5.11) close them one by one,
       1021 system calls on the way to every restart. */
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC_FLAG) < 0) {
      for (int fd = 3; fd < 1024; fd++) close(fd);
      if (syscall(SYS_close_range, 1024, ~0U, 0) < 0) {
      }
    }
    if (a->env)
      execve(a->file, a->argv, a->env);
    else
      execv(a->file, a->argv);
    stage = 3;
  }
  a->errnum = errno;
  a->stage = stage;
  _exit(127);
}

/**
 * Start the child; on failure -1 with `why` filled.
 *
 * clone(CLONE_VM | CLONE_VFORK), not fork (issue 13): no page tables are copied and this process
 * sleeps only until the child's exec (or its _exit after a failed step), which is how glibc's
 * posix_spawn and Bun.spawn start a process. Measured on the 2-core machine: ~0.12 ms per start
 * with fork (p99 ~1 ms), ~0.05 ms this way (docs/architecture.md, "The restart path", fifth step).
 * A failed step is reported through the shared memory, so there is no error pipe to read either.
 * Not posix_spawn itself: glibc's sets its two internal signals (32 and 33, which its sigfillset
 * leaves out, so POSIX_SPAWN_SETSIGDEF cannot name them) to SIG_IGN in the child, and the program
 * would inherit them ignored (shim.test.ts checks SigIgn is 0); nor does it say which step failed
 * (chdir or exec). The child gets what the fork version gave it: default dispositions, an empty
 * mask, fds 0/1/2 only, this process's group and session (no setsid, no setpgid).
 */
static int spawn_child(Request *r, char *why, size_t wn) {
  char *file = resolve_command(r->argv[0], r->env, r->cwd);
  if (!file) {
    snprintf(why, wn, "Executable not found in $PATH: \"%s\"", r->argv[0]);
    return -1;
  }
  int po[2], pe[2];
  /* stdout and stderr are socket pairs, as Bun.spawn's pipes are (the Bun shim), not FIFOs: Node
     writes to a FIFO stdout asynchronously, so a program that prints a lot and then calls
     process.exit() loses the tail of its output on a pipe, and keeps it on a socket. */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, po) < 0) {
    errno_text(errno, "socketpair", why, wn);
    free(file);
    return -1;
  }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pe) < 0) {
    errno_text(errno, "socketpair", why, wn);
    close(po[0]);
    close(po[1]);
    free(file);
    return -1;
  }
  SpawnArgs a = {.file = file, .argv = r->argv, .env = r->env, .cwd = r->cwd, .out = po[1], .err = pe[1]};
  /* Every signal blocked across the clone: no handler of ours may run in the child (shared memory)
     before it has set every disposition to default. */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(spawn_child_main, spawn_stack + sizeof spawn_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
  int clone_errno = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(po[1]);
  close(pe[1]);
  if (pid < 0) {
    errno_text(clone_errno, "fork", why, wn);
    close(po[0]);
    close(pe[0]);
    free(file);
    return -1;
  }
  if (a.stage != 0) {
    /* a step failed: collect the child, report like Bun.spawn would have thrown */
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    close(po[0]);
    close(pe[0]);
    const char *what = a.stage == 2 ? "chdir" : a.stage == 3 ? "posix_spawn" : "dup2";
    char e[256];
    errno_text(a.errnum, what, e, sizeof e);
    if (a.stage == 3 && (a.errnum == ENOENT || a.errnum == EACCES))
      snprintf(why, wn, "%s: %s", e, file);
    else
      snprintf(why, wn, "%s", e);
    free(file);
    return -1;
  }
  free(file);
  cloexec_nonblock(po[0]);
  cloexec_nonblock(pe[0]);
  streams[0] = (Stream){.fd = po[0], .tag = 'O'};
  streams[1] = (Stream){.fd = pe[0], .tag = 'E'};
  for (int k = 0; k < 2; k++) {
    if (!streams[k].pending) streams[k].pending = xmalloc((size_t)max_line);
  }
  child_pid = pid;
  child_done = 0;
  return 0;
}

/* ---------------------------------------------------------------- one generation */

static int subreaper;

/** Write + rename, no fsync (the exit file is re-derivable; see docs/architecture.md). */
static int write_exit_file(const char *target, const char *data, size_t len, char *why, size_t wn) {
  char *dir = dir_of(target);
  int r = mkdir_no_follow(dir, why, wn);
  free(dir);
  if (r < 0) return -1;
  size_t tl = strlen(target) + 64;
  char *tmp = xmalloc(tl);
  const char *base = strrchr(target, '/');
  base = base ? base + 1 : target;
  char *d = dir_of(target);
  snprintf(tmp, tl, "%s/.%s.tmp-%d-%06lx", d, base, (int)getpid(),
           (unsigned long)(mono_ms() ^ random()) & 0xffffff);
  free(d);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    errno_text(errno, "open", why, wn);
    free(tmp);
    return -1;
  }
  long long sz = 0;
  if (write_all(fd, data, len, &sz, why, wn) < 0) {
    close(fd);
    unlink(tmp);
    free(tmp);
    return -1;
  }
  close(fd);
  if (rename(tmp, target) < 0) {
    errno_text(errno, "rename", why, wn);
    unlink(tmp);
    free(tmp);
    return -1;
  }
  free(tmp);
  return 0;
}

static int run_generation(Request *r) {
  char why[1024];
  char iso[80];
  Buf b = {0};
  if (spawn_child(r, why, sizeof why) < 0) {
    for (char *c = why; *c; c++)
      if (*c == '\r' || *c == '\n') *c = ' ';
    iso_time(now_ms(), iso);
    buf_printf(&b, "===== autosentry: cannot start %s gen=%lld: %s =====\n", iso, r->generation, why);
    plog_write(b.p, b.len);
    b.len = 0;
    buf_printf(&b, "F%s\n", why);
    fw_send_always(b.p, b.len);
    buf_free(&b);
    return 127;
  }
  int pid = child_pid;
  iso_time(now_ms(), iso);
  buf_printf(&b, "===== autosentry: start %s gen=%lld pid=%d =====\n", iso, r->generation, pid);
  plog_write(b.p, b.len);
  b.len = 0;
  buf_printf(&b, "P%d\n", pid);
  offset_frame(&b);
  fw_send_always(b.p, b.len);
  b.len = 0;

  loop_for(-1, cond_child_done, 0);
  int64_t at = now_ms();
  int st = child_status;
  int has_code = WIFEXITED(st);
  int code = has_code ? WEXITSTATUS(st) : 0;
  int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;

  /* Grandchildren may hold the pipes open after the child exited. */
  loop_for(DRAIN_MS, cond_drained, 0);
  int done = cond_drained();
  int leftovers = 0;
  /* Whether anything of the child's survived it; none (the common case): nothing can be re-parented
     to us later either (that needs a live descendant now), so the escapee scan is skipped. */
  int any_descendant = 1;
  if (leads_group()) {
    Pids others = {0};
    if (subreaper) {
      Pids all = {0};
      descendants(&all);
      any_descendant = all.n > 0;
      for (size_t i = 0; i < all.n; i++) {
        ProcStat ps;
        if (read_stat(all.v[i], &ps) == 0 && ps.pgrp == getpid()) pids_add(&others, all.v[i]);
      }
      free(all.v);
    } else {
      group_members(getpid(), &others);
      size_t k = 0;
      for (size_t i = 0; i < others.n; i++)
        if (others.v[i] != getpid()) others.v[k++] = others.v[i];
      others.n = k;
    }
    leftovers = (int)others.n;
    free(others.v);
    if (leftovers > 0) {
      warn("%d process(es) left in the group after the child exited; killing them", leftovers);
      kill_group_gracefully(getpid(), LEFTOVER_GRACE_MS);
    }
  }
  /* Descendants that left the group (double fork + setsid) were re-parented to us: end them too. */
  if (subreaper && any_descendant && leads_group()) {
    Buf report = {0};
    int n = 0;
    end_escaped(LEFTOVER_GRACE_MS, &report, &n);
    if (n > 0) {
      leftovers += n;
      warn("%d process(es) escaped the process group (setsid) and outlived the child; ended them: %s", n,
           buf_cstr(&report));
    }
    buf_free(&report);
  }
  if (!done) {
    loop_for(DRAIN_MS, cond_drained, 0);
    done = cond_drained();
  }
  if (!done) {
    /* cancel: read what is buffered right now, end the streams */
    for (int k = 0; k < 2; k++) {
      Stream *s = &streams[k];
      if (s->fd < 0) continue;
      for (;;) {
        ssize_t n = read(s->fd, readbuf, READ_CHUNK);
        if (n <= 0) break;
        split_push(s, readbuf, (size_t)n);
        deliver();
      }
      split_end(s);
      deliver();
      close(s->fd);
      s->fd = -1;
    }
  }

  const char *sname = sig ? signal_name(sig) : NULL;
  Buf json = {0};
  buf_printf(&json, "{\"generation\":%lld,\"pid\":%d,", r->generation, pid);
  if (has_code)
    buf_printf(&json, "\"code\":%d,", code);
  else
    buf_adds(&json, "\"code\":null,");
  if (sig)
    buf_printf(&json, "\"signal\":\"%s%s\",", sname ? "" : "SIG", sname ? sname : "");
  else
    buf_adds(&json, "\"signal\":null,");
  if (sig && !sname) {
    /* an unnamed real-time signal: "SIG<n>" (proc.ts signalName) */
    json.len -= 2;
    buf_printf(&json, "%d\",", sig);
  }
  buf_printf(&json, "\"at\":%lld,\"leftovers\":%d}", (long long)at, leftovers);
  int status = has_code ? code : 128 + sig;
  iso_time(now_ms(), iso);
  buf_printf(&b, "===== autosentry: stop %s exit=%d =====\n", iso, status);
  plog_write(b.p, b.len);
  b.len = 0;
  offset_frame(&b);
  buf_addc(&b, 'X');
  buf_add(&b, json.p, json.len);
  buf_addc(&b, '\n');
  fw_send_always(b.p, b.len);
  buf_free(&b);
  /* The exit file right after the X frame, not before it (issue 13: creating a file costs 0.05-0.3 ms
     on a busy ext4, on the way from the exit to the restart). Nothing is lost by the order: this
     process writes it next, whatever the monitor does meanwhile, and the monitor deletes an exit file
     only once a state.json write no longer names the child (milliseconds later); should the file
     still arrive after that, it names a recorded generation and the next monitor removes it. */
  Buf file = {0};
  buf_add(&file, json.p, json.len);
  buf_addc(&file, '\n');
  if (write_exit_file(r->exit_file, file.p, file.len, why, sizeof why) < 0)
    warn("Cannot write exit file %s: %s", r->exit_file, why);
  buf_free(&file);
  buf_free(&json);
  child_pid = -1;
  return status;
}

/* ---------------------------------------------------------------- a minimal JSON reader */

typedef struct {
  const char *s;
  const char *end;
  int err;
} J;

static void j_ws(J *j) {
  while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r')) j->s++;
}
static void utf8_put(Buf *b, unsigned cp) {
  if (cp < 0x80)
    buf_addc(b, (char)cp);
  else if (cp < 0x800) {
    buf_addc(b, (char)(0xc0 | (cp >> 6)));
    buf_addc(b, (char)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    buf_addc(b, (char)(0xe0 | (cp >> 12)));
    buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
    buf_addc(b, (char)(0x80 | (cp & 0x3f)));
  } else {
    buf_addc(b, (char)(0xf0 | (cp >> 18)));
    buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
    buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
    buf_addc(b, (char)(0x80 | (cp & 0x3f)));
  }
}
static int hex4(const char *s, unsigned *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    *v <<= 4;
    if (c >= '0' && c <= '9')
      *v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      *v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      *v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  return 0;
}
/** A string; NULL (and err) when the input is not one. NUL characters are refused (no C string). */
static char *j_string(J *j) {
  j_ws(j);
  if (j->s >= j->end || *j->s != '"') {
    j->err = 1;
    return NULL;
  }
  j->s++;
  Buf b = {0};
  while (j->s < j->end && *j->s != '"') {
    unsigned char c = (unsigned char)*j->s++;
    if (c < 0x20) goto bad;
    if (c != '\\') {
      buf_addc(&b, (char)c);
      continue;
    }
    if (j->s >= j->end) goto bad;
    char e = *j->s++;
    switch (e) {
    case '"': buf_addc(&b, '"'); break;
    case '\\': buf_addc(&b, '\\'); break;
    case '/': buf_addc(&b, '/'); break;
    case 'b': buf_addc(&b, '\b'); break;
    case 'f': buf_addc(&b, '\f'); break;
    case 'n': buf_addc(&b, '\n'); break;
    case 'r': buf_addc(&b, '\r'); break;
    case 't': buf_addc(&b, '\t'); break;
    case 'u': {
      unsigned cp;
      if (j->end - j->s < 4 || hex4(j->s, &cp) < 0) goto bad;
      j->s += 4;
      if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->s >= 6 && j->s[0] == '\\' && j->s[1] == 'u') {
        unsigned lo;
        if (hex4(j->s + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
          j->s += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
      }
      if (cp == 0) goto bad;
      if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd; /* a lone surrogate, as TextEncoder does */
      utf8_put(&b, cp);
      break;
    }
    default: goto bad;
    }
  }
  if (j->s >= j->end) goto bad;
  j->s++;
  return buf_cstr(&b);
bad:
  buf_free(&b);
  j->err = 1;
  return NULL;
}
static void j_skip(J *j);
static void j_skip_container(J *j, char open, char close) {
  j->s++;
  j_ws(j);
  if (j->s < j->end && *j->s == close) {
    j->s++;
    return;
  }
  for (;;) {
    if (open == '{') {
      free(j_string(j));
      j_ws(j);
      if (j->err || j->s >= j->end || *j->s != ':') {
        j->err = 1;
        return;
      }
      j->s++;
    }
    j_skip(j);
    if (j->err) return;
    j_ws(j);
    if (j->s < j->end && *j->s == ',') {
      j->s++;
      continue;
    }
    if (j->s < j->end && *j->s == close) {
      j->s++;
      return;
    }
    j->err = 1;
    return;
  }
}
static void j_skip(J *j) {
  j_ws(j);
  if (j->s >= j->end) {
    j->err = 1;
    return;
  }
  char c = *j->s;
  if (c == '"') {
    free(j_string(j));
  } else if (c == '{') {
    j_skip_container(j, '{', '}');
  } else if (c == '[') {
    j_skip_container(j, '[', ']');
  } else {
    const char *st = j->s;
    while (j->s < j->end && (isalnum((unsigned char)*j->s) || *j->s == '-' || *j->s == '+' || *j->s == '.'))
      j->s++;
    if (j->s == st) j->err = 1;
  }
}
static int j_number(J *j, double *v) {
  j_ws(j);
  const char *st = j->s;
  while (j->s < j->end && (isdigit((unsigned char)*j->s) || strchr("+-.eE", *j->s))) j->s++;
  if (j->s == st) return -1;
  char tmp[64];
  size_t n = (size_t)(j->s - st);
  if (n >= sizeof tmp) return -1;
  memcpy(tmp, st, n);
  tmp[n] = 0;
  char *e;
  *v = strtod(tmp, &e);
  return *e == 0 ? 0 : -1;
}

/** Parse a generation request (protocol.ts parseGenerationRequest); -1 when it is not one. */
static int parse_request(const char *line, size_t len, Request *r) {
  J j = {line, line + len, 0};
  memset(r, 0, sizeof *r);
  int have_gen = 0, have_env = 0;
  j_ws(&j);
  if (j.s >= j.end || *j.s != '{') return -1;
  j.s++;
  j_ws(&j);
  if (j.s < j.end && *j.s == '}') {
    j.s++;
    goto check;
  }
  for (;;) {
    char *key = j_string(&j);
    if (!key) goto bad;
    j_ws(&j);
    if (j.s >= j.end || *j.s != ':') {
      free(key);
      goto bad;
    }
    j.s++;
    j_ws(&j);
    if (strcmp(key, "generation") == 0) {
      double v;
      if (j_number(&j, &v) < 0) {
        free(key);
        goto bad;
      }
      r->generation = (long long)v;
      have_gen = 1;
    } else if (strcmp(key, "argv") == 0) {
      if (j.s >= j.end || *j.s != '[') {
        free(key);
        goto bad;
      }
      j.s++;
      size_t n = 0, cap = 8;
      free_strv(r->argv);
      r->argv = xmalloc(cap * sizeof(char *));
      r->argv[0] = NULL;
      j_ws(&j);
      if (j.s < j.end && *j.s == ']') {
        j.s++;
      } else {
        for (;;) {
          char *a = j_string(&j);
          if (!a) {
            free(key);
            goto bad;
          }
          if (n + 2 > cap) {
            cap *= 2;
            r->argv = xrealloc(r->argv, cap * sizeof(char *));
          }
          r->argv[n++] = a;
          r->argv[n] = NULL;
          j_ws(&j);
          if (j.s < j.end && *j.s == ',') {
            j.s++;
            continue;
          }
          if (j.s < j.end && *j.s == ']') {
            j.s++;
            break;
          }
          free(key);
          goto bad;
        }
      }
    } else if (strcmp(key, "cwd") == 0 || strcmp(key, "exitFile") == 0) {
      char *v = j_string(&j);
      if (!v) {
        free(key);
        goto bad;
      }
      char **slot = key[0] == 'c' ? &r->cwd : &r->exit_file;
      free(*slot);
      *slot = v;
    } else if (strcmp(key, "env") == 0) {
      if (j.s >= j.end || *j.s != '{') {
        free(key);
        goto bad;
      }
      j.s++;
      size_t n = 0, cap = 32;
      free_strv(r->env);
      r->env = xmalloc(cap * sizeof(char *));
      r->env[0] = NULL;
      have_env = 1;
      j_ws(&j);
      if (j.s < j.end && *j.s == '}') {
        j.s++;
      } else {
        for (;;) {
          char *k = j_string(&j);
          j_ws(&j);
          if (!k || j.s >= j.end || *j.s != ':') {
            free(k);
            free(key);
            goto bad;
          }
          j.s++;
          j_ws(&j);
          /* protocol.ts only checks that env is an object; Bun.spawn stringifies the values. Only
             strings are sent (the monitor builds a Record<string, string>). */
          char *v = j_string(&j);
          if (!v) {
            free(k);
            free(key);
            goto bad;
          }
          Buf kv = {0};
          buf_adds(&kv, k);
          buf_addc(&kv, '=');
          buf_adds(&kv, v);
          free(k);
          free(v);
          if (n + 2 > cap) {
            cap *= 2;
            r->env = xrealloc(r->env, cap * sizeof(char *));
          }
          r->env[n++] = buf_cstr(&kv);
          r->env[n] = NULL;
          j_ws(&j);
          if (j.s < j.end && *j.s == ',') {
            j.s++;
            continue;
          }
          if (j.s < j.end && *j.s == '}') {
            j.s++;
            break;
          }
          free(key);
          goto bad;
        }
      }
    } else {
      j_skip(&j);
      if (j.err) {
        free(key);
        goto bad;
      }
    }
    free(key);
    j_ws(&j);
    if (j.s < j.end && *j.s == ',') {
      j.s++;
      j_ws(&j);
      continue;
    }
    if (j.s < j.end && *j.s == '}') {
      j.s++;
      break;
    }
    goto bad;
  }
check:
  j_ws(&j);
  if (j.s != j.end) goto bad;
  if (!have_gen || !r->argv || !r->argv[0] || !r->cwd || !r->exit_file || !have_env) goto bad;
  return 0;
bad:
  free_request(r);
  return -1;
}

/* ---------------------------------------------------------------- arguments */

typedef struct {
  long long generation;
  char *log, *exit_file;
  long max_line, log_max_bytes, log_backups;
  char **argv;
} Options;

static int usage_error(const char *usage, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dprintf(2, "autosentry __shim: %s\n%s\n", msg, usage);
  return 2;
}

static int parse_int(const char *s, long long min, long long *v) {
  if (!s || !*s) return -1;
  char *e;
  errno = 0;
  double d = strtod(s, &e);
  while (*e == ' ' || *e == '\t' || *e == '\n') e++;
  if (*e || errno || d != (double)(long long)d || d < (double)min) return -1;
  *v = (long long)d;
  return 0;
}

/** protocol.ts parseShimArgs: flag pairs up to `--`, then the command. 0 or an exit code. */
static int parse_args(int argc, char **argv, const char *usage, Options *o) {
  int sep = -1;
  for (int i = 0; i < argc; i++)
    if (strcmp(argv[i], "--") == 0) {
      sep = i;
      break;
    }
  if (sep < 0 || sep == argc - 1) return usage_error(usage, "missing command");
  const char *keys[] = {"generation", "log", "exit-file", "max-line", "log-max-bytes", "log-backups"};
  const char *vals[6] = {0};
  for (int i = 0; i < sep; i += 2) {
    const char *k = argv[i];
    if (strncmp(k, "--", 2) != 0 || i + 1 >= sep) return usage_error(usage, "bad argument %s", k);
    for (int x = 0; x < 6; x++)
      if (strcmp(k + 2, keys[x]) == 0) vals[x] = argv[i + 1];
  }
  for (int x = 0; x < 6; x++)
    if (!vals[x] || !*vals[x]) return usage_error(usage, "missing --%s", keys[x]);
  long long v;
  if (parse_int(vals[0], 0, &v) < 0) return usage_error(usage, "--generation must be an integer >= 0");
  o->generation = v;
  o->log = (char *)vals[1];
  o->exit_file = (char *)vals[2];
  if (parse_int(vals[3], 1, &v) < 0) return usage_error(usage, "--max-line must be an integer >= 1");
  o->max_line = (long)v;
  if (parse_int(vals[4], 1, &v) < 0) return usage_error(usage, "--log-max-bytes must be an integer >= 1");
  o->log_max_bytes = (long)v;
  if (parse_int(vals[5], 0, &v) < 0) return usage_error(usage, "--log-backups must be an integer >= 0");
  o->log_backups = (long)v;
  o->argv = argv + sep + 1;
  return 0;
}

/* ---------------------------------------------------------------- main */

static void setup(Options *o) {
  /* Frames never block the child: fd 1 non-blocking (our own end of the monitor's socket/pipe). */
  int fl = fcntl(1, F_GETFL);
  if (fl >= 0) fcntl(1, F_SETFL, fl | O_NONBLOCK);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_ignored;
  sigemptyset(&sa.sa_mask);
  int ign[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof ign / sizeof ign[0]; i++) sigaction(ign[i], &sa, NULL);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, NULL);
  sa.sa_handler = on_chld;
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGCHLD);
  sigprocmask(SIG_BLOCK, &block, &loop_mask);
  sigdelset(&loop_mask, SIGCHLD);
  readbuf = xmalloc(READ_CHUNK);
  streams[0].fd = streams[1].fd = -1;
  max_line = o->max_line;
  plog = (ProcessLog){.file = o->log, .max_bytes = o->log_max_bytes, .backups = (int)o->log_backups, .fd = -1};
  subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
  /* stdin of every child, opened once instead of per child (a path lookup per restart) */
  devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  n_changed_signals = 0;
  for (int s = 1; s < NSIG; s++) {
    struct sigaction cur;
    if (sigaction(s, NULL, &cur) == 0 && cur.sa_handler != SIG_DFL) changed_signals[n_changed_signals++] = s;
  }
  srandom((unsigned)(getpid() ^ now_ms()));
}

static void final_flush(void) {
  loop_for(FINAL_FLUSH_MS, cond_flushed, 0);
}

extern char **environ;

static int serve(int argc, char **argv) {
  /* parseServeArgs: the shared flags, checked as parseShimArgs does. */
  char **args = xmalloc(((size_t)argc + 7) * sizeof(char *));
  int n = 0;
  for (int i = 0; i < argc; i++) args[n++] = argv[i];
  args[n++] = "--generation";
  args[n++] = "0";
  args[n++] = "--exit-file";
  args[n++] = "-";
  args[n++] = "--";
  args[n++] = "-";
  args[n] = NULL;
  Options o;
  int rc = parse_args(n, args, SERVE_USAGE, &o);
  if (rc) return rc;
  setup(&o);
  int fl = fcntl(0, F_GETFL);
  if (fl >= 0) fcntl(0, F_SETFL, fl | O_NONBLOCK);
  Buf in = {0};
  int eof = 0, last = 0;
  for (;;) {
    char *nl = in.len ? memchr(in.p, '\n', in.len) : NULL;
    if (!nl) {
      if (eof) break;
      loop_for(-1, NULL, 1);
      if (!stdin_ready) continue;
      buf_reserve(&in, 65536);
      ssize_t r = read(0, in.p + in.len, 65536);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0)
        eof = 1;
      else
        in.len += (size_t)r;
      continue;
    }
    size_t ll = (size_t)(nl - in.p);
    int blank = 1;
    for (size_t i = 0; i < ll; i++)
      if (!isspace((unsigned char)in.p[i])) blank = 0;
    if (!blank) {
      Request r;
      if (parse_request(in.p, ll, &r) < 0) {
        Buf m = {0};
        buf_add(&m, in.p, ll < 200 ? ll : 200);
        warn("ignoring a bad request: not a generation request: %s", buf_cstr(&m));
        buf_free(&m);
      } else {
        last = run_generation(&r);
        free_request(&r);
        /* This generation's frames go out before the next one starts (or keep going out later). */
        loop_for(FINAL_FLUSH_MS, cond_flushed, 0);
      }
    }
    memmove(in.p, nl + 1, in.len - ll - 1);
    in.len -= ll + 1;
  }
  plog_close();
  final_flush();
  return last;
}

int main(int argc, char **argv) {
  int i = 1;
  if (i < argc && strcmp(argv[i], "__probe") == 0) {
    printf("autosentry-capture " PROTOCOL "\n");
    return 0;
  }
  if (i < argc && strcmp(argv[i], "__shim") == 0) i++;
  if (i < argc && strcmp(argv[i], "--serve") == 0) return serve(argc - i - 1, argv + i + 1);
  Options o;
  int rc = parse_args(argc - i, argv + i, USAGE, &o);
  if (rc) return rc;
  setup(&o);
  Request r = {.generation = o.generation, .argv = NULL, .cwd = NULL, .env = NULL, .exit_file = NULL};
  int nargs = 0;
  while (o.argv[nargs]) nargs++;
  r.argv = xmalloc(((size_t)nargs + 1) * sizeof(char *));
  for (int k = 0; k < nargs; k++) r.argv[k] = xstrdup(o.argv[k]);
  r.argv[nargs] = NULL;
  r.exit_file = xstrdup(o.exit_file);
  int status = run_generation(&r);
  free_request(&r);
  plog_close();
  final_flush();
  return status;
}
