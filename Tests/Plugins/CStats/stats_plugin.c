/* An out-of-tree focus plugin in plain C with jansson: per-channel intensity statistics.
 * Built by the tests with `gcc -shared -fPIC -I Protocol stats_plugin.c -ljansson`, never by SwiftPM. */
#include <confound_plugin.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *MANIFEST =
    "{\"id\":\"lab.c-stats\",\"name\":\"C intensity statistics\",\"kind\":\"focus\",\"version\":\"1.2.0\","
    "\"abi_version\":1,\"description\":\"Mean, standard deviation, minimum and maximum of each channel.\","
    "\"parameters\":[{\"name\":\"trim\",\"type\":\"number\",\"default\":0,\"minimum\":0,\"maximum\":0.49,"
    "\"description\":\"Ignored fraction of the darkest pixels (0 keeps all).\"}],"
    "\"outputs\":[{\"name\":\"Intensity_Mean\",\"type\":\"measure\",\"description\":\"mean pixel value\"}]}";

typedef struct {
  cf_result result;
  char *json;
} owned_result;

static int compare_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

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
  const cf_tensor *image = NULL;
  for (uint32_t i = 0; i < call->n_inputs; i++)
    if (call->inputs[i].name && strcmp(call->inputs[i].name, "image") == 0) image = &call->inputs[i];
  if (!image || image->dtype != CF_DTYPE_F32 || image->ndim != 3) {
    *out = make_result(CF_ERROR_INVALID_PARAMS, json_pack("{s:s}", "message", "needs input \"image\" float32 [C, H, W]"));
    return 0;
  }
  json_error_t error;
  json_t *params = json_loads(call->params_json, 0, &error);
  double trim = json_real_value(json_object_get(json_object_get(params, "parameters"), "trim"));
  if (json_is_integer(json_object_get(json_object_get(params, "parameters"), "trim")))
    trim = (double)json_integer_value(json_object_get(json_object_get(params, "parameters"), "trim"));
  json_t *names = json_object_get(json_object_get(params, "context"), "channels");

  int64_t channels = image->shape[0], plane = image->shape[1] * image->shape[2];
  const float *pixels = image->data;
  float *sorted = malloc(sizeof(float) * (size_t)plane);
  json_t *list = json_array();
  for (int64_t c = 0; c < channels; c++) {
    memcpy(sorted, pixels + c * plane, sizeof(float) * (size_t)plane);
    qsort(sorted, (size_t)plane, sizeof(float), compare_float);
    int64_t start = (int64_t)(trim * (double)plane);
    double sum = 0, sum2 = 0;
    for (int64_t i = start; i < plane; i++) sum += sorted[i];
    double n = (double)(plane - start), mean = sum / n;
    for (int64_t i = start; i < plane; i++) sum2 += (sorted[i] - mean) * (sorted[i] - mean);
    char fallback[32];
    snprintf(fallback, sizeof fallback, "Channel%lld", (long long)(c + 1));
    const char *name = json_is_array(names) && json_array_size(names) == (size_t)channels
                           ? json_string_value(json_array_get(names, (size_t)c)) : fallback;
    json_array_append_new(list, json_pack("{s:s, s:{s:f, s:f, s:f, s:f}}", "channel", name, "measures",
                                          "Intensity_Mean", mean, "Intensity_StdDev", sqrt(sum2 / n),
                                          "Intensity_Min", (double)sorted[start], "Intensity_Max", (double)sorted[plane - 1]));
    if (call->host && call->host->progress) call->host->progress(call->host->host_context, (double)(c + 1) / channels, NULL);
  }
  free(sorted);
  json_decref(params);
  *out = make_result(CF_OK, json_pack("{s:o}", "channels", list));
  return 0;
}

static void free_result(void *context, cf_result *result) {
  (void)context;
  owned_result *r = (owned_result *)result;
  free(r->json);
  free(r);
}

static const cf_plugin PLUGIN = {
    .abi_version = CONFOUND_ABI_VERSION, .struct_size = sizeof(cf_plugin), .manifest_json = NULL, .context = NULL,
    .invoke = invoke, .free_result = free_result, .unload = NULL};

const cf_plugin *confound_plugin_entry(uint32_t host_abi_version) {
  static cf_plugin plugin;
  if (host_abi_version < 1) return NULL;
  plugin = PLUGIN;
  plugin.manifest_json = MANIFEST;
  return &plugin;
}
