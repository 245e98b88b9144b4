/*
 * confound_plugin.h -- the C ABI every Confound plugin exports.
 *
 * A plugin is a shared object (.so) that exports one symbol, `confound_plugin_entry`, returning a
 * pointer to a `cf_plugin` vtable. The host never shares Swift types with a plugin: everything that
 * crosses this boundary is declared here, in C.
 *
 * Versioning rules (append-only):
 *   - CONFOUND_ABI_VERSION grows by one when a member is appended to any struct below. Members are
 *     never removed, reordered or retyped.
 *   - Every struct starts with `struct_size` (sizeof as compiled by its producer). A reader accesses a
 *     member only when `struct_size` covers it, so an older plugin works in a newer host and the other
 *     way round, within the rules of `abi_version` below.
 *   - The host passes its own ABI version to the entry point. A plugin built for a newer ABI than the
 *     host supports must return NULL (or the host refuses it: "ABI too new").
 *
 * Memory rules:
 *   - What the host passes (cf_call, tensors, strings) is valid only during the call; a plugin copies
 *     what it keeps.
 *   - What the plugin returns (cf_result, its JSON, its tensors) is owned by the plugin and released
 *     by the plugin's own `free_result`. The host never frees plugin memory with its own allocator.
 *   - `manifest_json` stays valid until `unload` is called.
 *
 * Threads: the host calls `invoke` from one thread at a time per loaded instance (each worker process
 * holds one instance). `is_cancelled`, `progress` and `log` may be called from that thread only.
 *
 * See Protocol/README.md, section "Plugins", for the manifest schema and the inputs and outputs each
 * of the five kinds (focus, segmenter, embedder, probe, explainer) takes and returns.
 */
#ifndef CONFOUND_PLUGIN_H
#define CONFOUND_PLUGIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONFOUND_ABI_VERSION 1u
#define CONFOUND_PLUGIN_ENTRY_SYMBOL "confound_plugin_entry"
#define CF_MAX_DIMS 6

/* Element type of a tensor. Values are part of the ABI. */
typedef enum cf_dtype {
  CF_DTYPE_U8 = 1,
  CF_DTYPE_U16 = 2,
  CF_DTYPE_U32 = 3,
  CF_DTYPE_I32 = 4,
  CF_DTYPE_I64 = 5,
  CF_DTYPE_F32 = 6,
  CF_DTYPE_F64 = 7
} cf_dtype;

/* Status of a call. Values are part of the ABI and map onto JSON-RPC error codes (README.md). */
typedef enum cf_status {
  CF_OK = 0,
  CF_ERROR_INVALID_PARAMS = 1, /* the request does not fit the manifest or the kind's contract */
  CF_ERROR_PLUGIN = 2,         /* the plugin could not compute a result; json holds {"message": ...} */
  CF_ERROR_CANCELLED = 3,      /* the call noticed is_cancelled() and stopped */
  CF_ERROR_BAD_INPUT = 4       /* an input image or table is unusable; json names it */
} cf_status;

/* A dense, C-contiguous (row-major) array. Images are [channels, height, width]; batches of crops
 * [n, channels, height, width]; tables [rows, columns]. */
typedef struct cf_tensor {
  uint32_t struct_size;
  uint32_t dtype;            /* a cf_dtype */
  uint32_t ndim;             /* 0 ... CF_MAX_DIMS */
  uint32_t reserved;
  int64_t shape[CF_MAX_DIMS];
  const char *name;          /* the role of this tensor, e.g. "image", "labels", "embeddings" */
  void *data;                /* product(shape) elements of dtype, row-major */
  uint64_t nbytes;           /* product(shape) * element size */
} cf_tensor;

/* Services the host offers to a running call. */
typedef struct cf_host_api {
  uint32_t struct_size;
  void *host_context;
  /* Non-zero once the client has cancelled the request: stop soon and return CF_ERROR_CANCELLED. */
  int32_t (*is_cancelled)(void *host_context);
  /* Work-done progress: fraction in [0, 1], message may be NULL. */
  void (*progress)(void *host_context, double fraction, const char *message);
  /* A log line for the client (window/logMessage) and stderr. level: 1 error, 2 warning, 3 info, 4 debug. */
  void (*log)(void *host_context, int32_t level, const char *message);
} cf_host_api;

/* One request to a plugin. */
typedef struct cf_call {
  uint32_t struct_size;
  uint32_t n_inputs;
  const char *method;        /* the kind's operation, e.g. "focus.score"; see README.md */
  const char *params_json;   /* UTF-8 JSON object: {"parameters": {...}, "context": {...}, ...} */
  const cf_tensor *inputs;   /* n_inputs tensors, by name */
  const cf_host_api *host;
} cf_call;

/* What a plugin returns. Allocated and released by the plugin. */
typedef struct cf_result {
  uint32_t struct_size;
  int32_t status;            /* a cf_status */
  const char *json;          /* CF_OK: the result object; otherwise {"message": "...", "data": {...}} */
  const cf_tensor *outputs;  /* n_outputs tensors, by name; may be NULL when n_outputs is 0 */
  uint32_t n_outputs;
  uint32_t reserved;
} cf_result;

/* The vtable a plugin exports. */
typedef struct cf_plugin {
  uint32_t abi_version;      /* the CONFOUND_ABI_VERSION the plugin was compiled against */
  uint32_t struct_size;      /* sizeof(cf_plugin) as the plugin compiled it */
  const char *manifest_json; /* UTF-8 JSON: id, kind, version, abi_version, parameters, outputs */
  void *context;             /* the plugin's own state, passed back to every function below */
  /* Runs one call. Returns 0 and sets *out (never NULL on return 0), or non-zero without a result
   * when the plugin could not even allocate one. */
  int32_t (*invoke)(void *context, const cf_call *call, cf_result **out);
  /* Releases a result returned by invoke. */
  void (*free_result)(void *context, cf_result *result);
  /* Releases the plugin's state; no other function is called afterwards. May be NULL. */
  void (*unload)(void *context);
} cf_plugin;

/* The one exported symbol. `host_abi_version` is the host's CONFOUND_ABI_VERSION. */
typedef const cf_plugin *(*cf_plugin_entry_fn)(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* CONFOUND_PLUGIN_H */
