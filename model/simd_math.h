/*
 * simd_math — declares the libm functions that glibc's libmvec provides in vector form, so that
 * `#pragma omp simd` loops calling them are vectorised (glibc only declares them itself under
 * -ffast-math, which fwpcast does not use). Link with -lmvec. Header only.
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

#endif
