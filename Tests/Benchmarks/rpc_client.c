/* A minimal LSP-framed JSON-RPC client in C for round-trip benchmarks: the Python client tops out near 10k
 * round trips/s on this machine, below what the servers can do. Usage:
 *   rpc_client SECONDS METHOD -- SERVER ARGV...
 * Sends `initialize`, then strict request/response round trips of METHOD (no params) for SECONDS, then
 * `shutdown` + `exit`. Prints: "<round trips/s> <server CPU us per round trip>". */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int to_server, from_server;
static char buffer[1 << 20];
static size_t filled;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void send_request(long id, const char *method) {
  char body[512], frame[600];
  int n = snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\"%s}", id, method,
                   strcmp(method, "initialize") == 0 ? ",\"params\":{}" : "");
  int m = snprintf(frame, sizeof frame, "Content-Length: %d\r\n\r\n%s", n, body);
  if (write(to_server, frame, (size_t)m) != m) { perror("write"); exit(1); }
}

/* Reads one framed message; returns its body length (the body starts at buffer + returned offset). */
static void read_message(void) {
  for (;;) {
    char *end = memmem(buffer, filled, "\r\n\r\n", 4);
    if (end) {
      long length = atol(strcasestr(buffer, "content-length:") + 15);
      size_t total = (size_t)(end - buffer) + 4 + (size_t)length;
      if (filled >= total) {
        memmove(buffer, buffer + total, filled - total);
        filled -= total;
        return;
      }
    }
    ssize_t got = read(from_server, buffer + filled, sizeof buffer - filled);
    if (got <= 0) { fprintf(stderr, "server closed\n"); exit(1); }
    filled += (size_t)got;
  }
}

int main(int argc, char **argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: rpc_client SECONDS METHOD -- SERVER ARGV...\n");
    return 2;
  }
  double seconds = atof(argv[1]);
  const char *method = argv[2];
  int in[2], out[2];
  if (pipe(in) || pipe(out)) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    execvp(argv[4], argv + 4);
    perror("exec");
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_server = in[1];
  from_server = out[0];
  send_request(0, "initialize");
  read_message();
  char cpu_path[64], stat[1024];
  snprintf(cpu_path, sizeof cpu_path, "/proc/%d/stat", pid);
  long ticks_before = 0, ticks_after = 0, utime, stime;
  FILE *f = fopen(cpu_path, "r");
  if (f && fgets(stat, sizeof stat, f) && sscanf(strrchr(stat, ')') + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) == 2) ticks_before = utime + stime;
  if (f) fclose(f);
  long count = 0;
  double start = now(), end = start + seconds;
  while (now() < end) {
    for (int i = 0; i < 100; i++) {
      send_request(++count, method);
      read_message();
    }
  }
  double elapsed = now() - start;
  f = fopen(cpu_path, "r");
  if (f && fgets(stat, sizeof stat, f) && sscanf(strrchr(stat, ')') + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) == 2) ticks_after = utime + stime;
  if (f) fclose(f);
  send_request(++count, "shutdown");
  read_message();
  const char *exit_msg = "Content-Length: 33\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}";
  if (write(to_server, exit_msg, strlen(exit_msg)) < 0) perror("write");
  close(to_server);
  waitpid(pid, NULL, 0);
  double cpu_us = (double)(ticks_after - ticks_before) / (double)sysconf(_SC_CLK_TCK) * 1e6 / (double)count;
  printf("%.0f %.1f\n", (double)count / elapsed, cpu_us);
  return 0;
}
