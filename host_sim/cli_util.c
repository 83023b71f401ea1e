/* Small helpers shared by stapler-sim's commands: see cli_util.h. */
#define _POSIX_C_SOURCE 200809L

#include "cli_util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stapler/agent.h"
#include "stapler/ocsp.h"

int stapler_sim_parse_time(const char *text, int64_t *seconds)
{
    static const int digit_at[] = { 0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18 };
    unsigned char generalized[15];
    size_t i;

    /* The same fields as a GeneralizedTime, so the codec's strict parser checks them. */
    if (strlen(text) != 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':' ||
        (text[19] != 'Z' && text[19] != 'z')) {
        return -1;
    }
    for (i = 0; i < 14; i++) {
        generalized[i] = (unsigned char) text[digit_at[i]];
    }
    generalized[14] = 'Z';
    return stapler_ocsp_time_parse(generalized, sizeof(generalized), seconds) == 0 ? 0 : -1;
}

const char *stapler_sim_format_time(int64_t seconds, char *buf, size_t size)
{
    time_t t = (time_t) seconds;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(buf, size, "invalid");
    }
    return buf;
}

long stapler_sim_read_file(const char *path, unsigned char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    int too_large;

    if (f == NULL) {
        fprintf(stderr, "stapler-sim: cannot open '%s'\n", path);
        return -1;
    }
    n = fread(buf, 1, size - 1, f);
    too_large = n == size - 1 && fgetc(f) != EOF;
    fclose(f);
    if (too_large) {
        fprintf(stderr, "stapler-sim: '%s' is larger than %zu bytes\n", path, size - 1);
        return -2;
    }
    buf[n] = '\0';
    return (long) n;
}

int stapler_sim_load_certificates(mbedtls_x509_crt *crt, const char *path, const char *what)
{
    static unsigned char buf[65536];
    long n = stapler_sim_read_file(path, buf, sizeof(buf));
    int ret;

    if (n < 0) {
        return -1;
    }
    /* mbedtls_x509_crt_parse() takes PEM with its NUL, or DER. */
    ret = mbedtls_x509_crt_parse(crt, buf, strstr((const char *) buf, "-----BEGIN") != NULL
                                               ? (size_t) n + 1 : (size_t) n);
    if (ret != 0) {
        fprintf(stderr, "stapler-sim: %s '%s' is not a PEM or DER X.509 certificate "
                        "(Mbed TLS error -0x%04x)\n", what, path, (unsigned) -ret);
        return -1;
    }
    return 0;
}

const char *stapler_sim_state_name(int state)
{
    return stapler_agent_state_name(state);
}
