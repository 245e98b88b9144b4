/* Plugins the host must refuse with a clear reason, one per -D flag:
 *   -DABI_FUTURE    a vtable of a newer ABI than the host's
 *   -DBAD_MANIFEST  a manifest of an unknown kind and a bad version
 *   -DNO_ENTRY      a shared object that is not a plugin at all
 *   -DCRASH_ON_LOAD a plugin whose entry point crashes
 *   -DHANG_ON_LOAD  a plugin whose entry point never returns
 *   -DSMALL_STRUCT  a vtable whose struct_size does not cover free_result */
#include <confound_plugin.h>
#include <stddef.h>
#include <unistd.h>

#ifdef NO_ENTRY
int not_a_plugin(void) { return 42; }
#else
static int32_t invoke(void *context, const cf_call *call, cf_result **out) {
  (void)context; (void)call; (void)out;
  return 1;
}
static void free_result(void *context, cf_result *result) { (void)context; (void)result; }

const cf_plugin *confound_plugin_entry(uint32_t host_abi_version) {
  static cf_plugin plugin = {.struct_size = sizeof(cf_plugin), .invoke = invoke, .free_result = free_result};
  (void)host_abi_version;
#if defined(ABI_FUTURE)
  plugin.abi_version = CONFOUND_ABI_VERSION + 1;
  plugin.manifest_json = "{\"id\":\"test.future\",\"kind\":\"focus\",\"version\":\"9.0.0\",\"abi_version\":2}";
#elif defined(BAD_MANIFEST)
  plugin.abi_version = CONFOUND_ABI_VERSION;
  plugin.manifest_json = "{\"id\":\"Test Bad\",\"kind\":\"telepathy\",\"version\":\"one\",\"abi_version\":1}";
#elif defined(CRASH_ON_LOAD)
  *(volatile int *)NULL = 1; /* a real fault, as a buggy plugin would make */
#elif defined(HANG_ON_LOAD)
  for (;;) pause();
#elif defined(SMALL_STRUCT)
  plugin.abi_version = CONFOUND_ABI_VERSION;
  plugin.struct_size = offsetof(cf_plugin, invoke);
  plugin.manifest_json = "{\"id\":\"test.small\",\"kind\":\"focus\",\"version\":\"1.0.0\",\"abi_version\":1}";
#endif
  return &plugin;
}
#endif
