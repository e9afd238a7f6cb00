/*
 * simd_math — declares the libm functions that glibc's libmvec provides in vector form, so that
 * `#pragma omp simd` loops calling them are vectorised (glibc only declares them itself under
 * -ffast-math, which fwpcast does not use), and HOT_KERNEL, which builds a function for
 * several x86-64 levels. Link with -lmvec. Header only.
 *
 * Do libmvec and libm give the same bits on every AVX2 machine? Yes, for one glibc build (the
 * binary's: Debian 12's 2.36-9+deb12u14 here and in deploy/Dockerfile), from glibc 2.36's
 * sources (sysdeps/x86_64/fpu/multiarch/, sysdeps/x86/cpu-features.c), checked against the
 * installed libm/libmvec's symbols:
 *   - the vector functions are ifuncs chosen once per process on glibc's "usable" CPU bits.
 *     The AVX2 clones below call the 4-lane _ZGVdN4v_{sin,cos,exp,log,tanh}, whose selector
 *     (ifunc-mathvec-avx2.h) returns the _avx2 implementation when FMA and AVX2 are usable,
 *     else an SSE wrapper; the baseline code's 2-lane _ZGVbN2v_* take the _sse4 one when SSE4.1
 *     is usable (ifunc-mathvec-sse4_1.h), and every AVX2 CPU has SSE4.1. Each implementation
 *     is fixed assembly (FMA inside the _avx2 ones, the same on every CPU that runs them);
 *     lanes with special inputs go to the scalar function, below.
 *   - the scalar exp, log, pow, sin, cos (and sincos, tan, atan, asin, atan2) are ifuncs too
 *     (e_exp.c, e_log.c, s_sin.c: ifunc-avx-fma4.h; e_pow.c, e_asin.c: ifunc-fma4.h): the
 *     *_fma variant whenever FMA and AVX2 are usable, checked first (so also on AMD CPUs that
 *     have FMA4). tanh (dbl-64/s_tanh.c, no variants) calls expm1, which Debian's 2.36 has as
 *     an ifunc (the 2.36 branch's "x86_64: Add expm1 with FMA", ifunc-fma.h: __expm1_fma on
 *     FMA + AVX2). sqrt, floor, fabs, lround are exact whatever the instruction.
 *   - "usable" is the CPUID bit and the OS saving YMM state (XGETBV), the same condition under
 *     which GCC's __builtin_cpu_supports("avx2") picks the AVX2 clones and gemm.c its AVX2
 *     path; every CPU with AVX2 has FMA3 (Intel from Haswell, AMD from Excavator and Zen).
 *   So every AVX2 machine runs the same implementation of every function, on the same inputs:
 *   the same bits. What would change them: another glibc build (the functions' code changes
 *   between releases), GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2 or -FMA (masks them for glibc
 *   only), a virtual machine that hides FMA but not AVX2, and the few Zhaoxin models glibc
 *   treats as having no usable AVX (family 6 models 0x0f and 0x19, family 7 models 0x1b and
 *   0x3b). Without AVX2 the process takes other variants (baseline clones, SSE/SSE2 functions)
 *   and is deterministic on its own, but not bit-identical to AVX2 machines.
 *   A value's bits must also not depend on where it falls in a loop: a vectorised loop's
 *   scalar tail calls the scalar function, which rounds differently from the vector one. The
 *   callers pad their arrays to whole vectors (gqkan_fwp.c's VALUE_PAD, lstm.c's ACT_PAD,
 *   esn.c's LANES) or call per window with a fixed length (daruan.c).
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
