#ifndef CF_CLONES_H
#define CF_CLONES_H

// A kernel marked CLONES is compiled for AVX-512, AVX2 with FMA and the baseline; the loader runs the CPU's best.
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef CLONES
#define CLONES
#endif

#endif
