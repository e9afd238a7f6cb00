/* utf8 — one validated UTF-8 sequence (see utf8.h). */
#include "base/utf8.h"

size_t utf8_sequence(const unsigned char *p, size_t avail)
{
    if (avail == 0)
        return 0;
    unsigned char c = p[0];
    size_t extra;
    unsigned int cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        extra = 1, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        extra = 2, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        extra = 3, cp = c & 0x07;
    else
        return 0;
    for (size_t k = 1; k <= extra; k++) {
        if (k >= avail || (p[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3f);
    }
    if ((extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return extra + 1;
}
