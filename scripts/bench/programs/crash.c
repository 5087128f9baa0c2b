/* The crash-loop job of the restart-latency benchmark: append the wall-clock start time in
 * nanoseconds to the file named by $START_LOG (one line per start), print one line, then exit 1. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const char *file = getenv("START_LOG");
  if (file) {
    char line[64];
    int n = snprintf(line, sizeof line, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      (void)!write(fd, line, (size_t)n);
      close(fd);
    }
  }
  /* One line of output, as a crashing program prints its error: supervisord only wakes up for a
   * child's exit when an output pipe closes (Python retries its poll() on SIGCHLD, so a silent
   * child's exit waits for the 1 s poll timeout there). */
  fputs("crash: exiting with code 1\n", stdout);
  return 1;
}
