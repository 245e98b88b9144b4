// prctl(2) is variadic, which Swift cannot call: this names the one use Confound has for it.
#include <signal.h>
#include <sys/prctl.h>

/// Asks the kernel to send `signal` to the calling process when its parent exits (PR_SET_PDEATHSIG); 0 on success.
static inline int cf_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }
