/*
 * simd_math — declares the libm functions that glibc's libmvec provides in vector form, so that
 * `#pragma omp simd` loops calling them are vectorised (glibc only declares them itself under
 * -ffast-math, which fwpcast does not use), and HOT_KERNEL, which builds a function for
 * several x86-64 levels. Link with -lmvec. Header only.
 */
#ifndef FW_SIMD_MATH_H
#define FW_SIMD_MATH_H

#include <math.h>

#pragma omp declare simd notinbranch
extern double sin(double);
#pragma omp declare simd notinbranch
extern double cos(double);
#pragma omp declare simd notinbranch
extern double exp(double);
#pragma omp declare simd notinbranch
extern double log(double);

/* Hot kernels are compiled for the x86-64 baseline and for AVX2 and AVX-512 (4 and 8 lanes),
 * chosen once at load time, so the portable binary still uses the machine's vectors. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(FW_NO_CLONES)
#define HOT_KERNEL __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define HOT_KERNEL
#endif

#endif
