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

/* Hot kernels are compiled for the x86-64 baseline and for AVX2 (4 lanes), chosen once at load
 * time, so the portable binary still uses the machine's vectors. Every AVX2 machine runs the
 * AVX2 clone, so the same instructions, the same reduction splits and the same libmvec variant
 * (above): the same bits. There is deliberately no AVX-512 clone: it would split `omp simd`
 * reductions 8 ways and call libmvec's AVX-512 functions, another implementation, so an
 * AVX-512 machine would train other bits. "avx2" rather than "arch=x86-64-v3", so that nothing
 * but AVX2 decides (and without FMA: nothing here is fused, see gemm.h). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(FW_NO_CLONES)
#define HOT_KERNEL __attribute__((target_clones("default", "avx2")))
#else
#define HOT_KERNEL
#endif

#endif
