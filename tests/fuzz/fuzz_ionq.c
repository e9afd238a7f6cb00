/*
 * fuzz_ionq — ionq_result_p0 (quantum/ionq.h), which reads IonQ's result documents (probability
 * and count maps, flat or under registers.output_all). Input: one byte choosing the format (one
 * value past the last is an unknown format), then the document.
 *
 * Properties: it returns 0, FW_ECORRUPT or (unknown format only) FW_EINVAL; a P(0) it returns is
 * in [0, 1]; on failure it leaves P(0) alone.
 */
#include "fuzz.h"
#include "base/error.h"
#include "quantum/ionq.h"

#include <math.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    int format = fuzz_byte(&in) % 5;
    size_t len;
    char *text = fuzz_rest(&in, &len);
    double p0 = -1;
    int rc = ionq_result_p0(text, len, (enum ionq_result_format)format, &p0);
    if (format == 4)
        FUZZ_CHECK(rc == FW_EINVAL);
    else
        FUZZ_CHECK(rc == FW_OK || rc == FW_ECORRUPT);
    FUZZ_CHECK(rc == FW_OK ? p0 >= 0 && p0 <= 1 : p0 == -1);
    free(text);
    return 0;
}
