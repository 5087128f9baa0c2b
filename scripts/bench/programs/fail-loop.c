/* The job of the detection-latency benchmark: print the wall-clock time in milliseconds, then a
 * failure line (flushed at once), then wait to be stopped (or exit after $HOLD_MS). The monitor's
 * journal says when the incident was written and the restart issued; the difference is the latency. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long ms = (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
  printf("bench: failure written at %lld\n", ms);
  printf("fatal: bench failure %lld\n", ms);
  fflush(stdout);
  const char *hold = getenv("HOLD_MS");
  usleep((useconds_t)(hold ? atoi(hold) : 2000) * 1000);
  return 1;
}
