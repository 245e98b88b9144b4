/* A focus plugin that misbehaves on request, to show that the host survives it: parameter "mode" is
 * "ok" (mean of the image), "segfault", "abort", "hang" (ignores cancellation forever), "slow" (runs for
 * "seconds", reporting progress and stopping when cancelled), or "print" (writes to stdout, then answers). */
#include <confound_plugin.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *MANIFEST =
    "{\"id\":\"test.misbehave\",\"kind\":\"focus\",\"version\":\"0.0.1\",\"abi_version\":1,"
    "\"parameters\":[{\"name\":\"mode\",\"type\":\"string\",\"default\":\"ok\","
    "\"choices\":[\"ok\",\"segfault\",\"abort\",\"hang\",\"slow\",\"print\"],\"description\":\"how to behave\"},"
    "{\"name\":\"seconds\",\"type\":\"number\",\"default\":5,\"minimum\":0,\"maximum\":600,\"description\":\"slow mode duration\"}]}";

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
  *out = make_result(CF_OK, json_pack("{s:[{s:s, s:{s:f}}]}", "channels", "channel", "all", "measures", "mean", sum / (double)n));
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
