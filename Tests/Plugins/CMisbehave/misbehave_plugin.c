/* A focus plugin that misbehaves on request, to show that the host survives it: parameter "mode" is
 * "ok" (mean of the image), "segfault", "abort", "hang" (ignores cancellation forever), "slow" (runs for
 * "seconds", reporting progress and stopping when cancelled), or "print" (writes to stdout, then answers).
 * Breaking the focus contract: "null", "array" ([1,2,3]), "badchannels" ({"channels":"x"}).
 * Breaking the worker: "huge" (a result of "bytes" bytes), "fork-crash" (forks a child that keeps the pipes open,
 * then crashes), "fork-orphan" (forks a child that sleeps, answers with its pid as "child"), "close-channel" and
 * "redirect-channel" (close, or dup2 /dev/null over, the worker's pipes), "garbage" (writes non-frames into them). */
#include <confound_plugin.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *MANIFEST =
    "{\"id\":\"test.misbehave\",\"kind\":\"focus\",\"version\":\"0.0.1\",\"abi_version\":1,"
    "\"parameters\":[{\"name\":\"mode\",\"type\":\"string\",\"default\":\"ok\","
    "\"choices\":[\"ok\",\"segfault\",\"abort\",\"hang\",\"slow\",\"print\",\"null\",\"array\",\"badchannels\","
    "\"huge\",\"fork-crash\",\"fork-orphan\",\"close-channel\",\"redirect-channel\",\"garbage\"],\"description\":\"how to behave\"},"
    "{\"name\":\"seconds\",\"type\":\"number\",\"default\":5,\"minimum\":0,\"maximum\":600,\"description\":\"slow mode duration\"},"
    "{\"name\":\"bytes\",\"type\":\"number\",\"default\":0,\"minimum\":0,\"maximum\":1e9,\"description\":\"huge mode size\"}]}";

/* Every pipe among the first descriptors, other than stderr: the worker's stdin and its protocol channel. */
static void each_pipe(void (*action)(int fd)) {
  for (int fd = 0; fd < 256; fd++) {
    struct stat info;
    if (fd == 2 || fstat(fd, &info) != 0 || !S_ISFIFO(info.st_mode)) continue;
    action(fd);
  }
}
static void close_fd(int fd) { close(fd); }
static void redirect_fd(int fd) {
  int null = open("/dev/null", O_RDWR);
  dup2(null, fd);
  close(null);
}
static void garbage_fd(int fd) {
  static const char text[] = "this is not a frame\r\n\r\n";
  if (write(fd, text, sizeof text - 1) < 0) { /* the read end of a pipe: nothing to do */ }
}

typedef struct {
  cf_result result;
  char *json;
} owned_result;

static cf_result *make_result(int32_t status, json_t *json) {
  owned_result *r = calloc(1, sizeof *r);
  r->json = json_dumps(json, JSON_COMPACT);
  json_decref(json);
  r->result.struct_size = sizeof(cf_result);
  r->result.status = status;
  r->result.json = r->json;
  return &r->result;
}

static int32_t invoke(void *context, const cf_call *call, cf_result **out) {
  (void)context;
  json_t *params = json_loads(call->params_json, 0, NULL);
  json_t *p = json_object_get(params, "parameters");
  const char *mode = json_string_value(json_object_get(p, "mode"));
  double seconds = json_number_value(json_object_get(p, "seconds"));
  if (strcmp(mode, "segfault") == 0) *(volatile int *)NULL = 1; /* a real fault */
  if (strcmp(mode, "abort") == 0) abort();
  if (strcmp(mode, "hang") == 0)
    for (;;) pause();
  if (strcmp(mode, "null") == 0 || strcmp(mode, "array") == 0 || strcmp(mode, "badchannels") == 0) {
    json_t *bad = strcmp(mode, "null") == 0 ? json_null()
                  : strcmp(mode, "array") == 0 ? json_pack("[i,i,i]", 1, 2, 3)
                                               : json_pack("{s:s}", "channels", "x");
    json_decref(params);
    *out = make_result(CF_OK, bad);
    return 0;
  }
  if (strcmp(mode, "huge") == 0) {
    size_t n = (size_t)json_number_value(json_object_get(p, "bytes"));
    char *text = malloc(n + 1);
    memset(text, 'x', n);
    text[n] = 0;
    json_t *big = json_pack("{s:[{s:s, s:{s:f}}], s:s}", "channels", "channel", "all", "measures", "mean", 0.0, "padding", text);
    free(text);
    json_decref(params);
    *out = make_result(CF_OK, big);
    return 0;
  }
  if (strcmp(mode, "fork-crash") == 0) {
    if (fork() == 0) {
      sleep(60);
      _exit(0);
    }
    *(volatile int *)NULL = 1;
  }
  int64_t child = 0;
  if (strcmp(mode, "fork-orphan") == 0) {
    child = fork();
    if (child == 0) {
      sleep(600);
      _exit(0);
    }
  }
  if (strcmp(mode, "close-channel") == 0) each_pipe(close_fd);
  if (strcmp(mode, "redirect-channel") == 0) each_pipe(redirect_fd);
  if (strcmp(mode, "garbage") == 0) each_pipe(garbage_fd);
  if (strcmp(mode, "print") == 0) {
    printf("Content-Length: 5\r\n\r\nnoise");
    fflush(stdout);
  }
  if (strcmp(mode, "slow") == 0) {
    for (int i = 0; i < (int)(seconds * 100); i++) {
      if (call->host->is_cancelled(call->host->host_context)) {
        json_decref(params);
        *out = make_result(CF_ERROR_CANCELLED, json_pack("{s:s}", "message", "stopped on request"));
        return 0;
      }
      call->host->progress(call->host->host_context, i / (seconds * 100), "sleeping");
      usleep(10000);
    }
  }
  double sum = 0;
  int64_t n = 1;
  if (call->n_inputs > 0 && call->inputs[0].dtype == CF_DTYPE_F32) {
    const cf_tensor *t = &call->inputs[0];
    for (uint32_t d = 0; d < t->ndim; d++) n *= t->shape[d];
    for (int64_t i = 0; i < n; i++) sum += ((const float *)t->data)[i];
  }
  json_decref(params);
  *out = make_result(CF_OK, json_pack("{s:[{s:s, s:{s:f}}], s:I}", "channels", "channel", "all", "measures", "mean",
                                      sum / (double)n, "child", (json_int_t)child));
  return 0;
}

static void free_result(void *context, cf_result *result) {
  (void)context;
  owned_result *r = (owned_result *)result;
  free(r->json);
  free(r);
}

const cf_plugin *confound_plugin_entry(uint32_t host_abi_version) {
  static cf_plugin plugin = {.abi_version = CONFOUND_ABI_VERSION, .struct_size = sizeof(cf_plugin),
                             .invoke = invoke, .free_result = free_result};
  (void)host_abi_version;
  plugin.manifest_json = MANIFEST;
  return &plugin;
}
