/* The crash-loop job of the restart-latency benchmark: append the wall-clock start time in
 * nanoseconds to the file named by $START_LOG (one line per start), then exit 1 at once. */
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
  return 1;
}
