/**
 * \file selftest.h
 * \brief Known-answer tests of the cryptography Stapler is configured with, on the target.
 *
 * A firmware team runs this once on new silicon, a new compiler or a new Mbed TLS
 * configuration: a miscompiled bignum or hash shows up here as a named failure instead of
 * as OCSP responses that mysteriously fail to verify. Enabled by CONFIG_STAPLER_SELFTEST.
 */
#ifndef STAPLER_SELFTEST_H
#define STAPLER_SELFTEST_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief Called once per test, in order, as it finishes.
 * \param context  The caller's pointer, passed through.
 * \param name     Static string naming the test (e.g. "sha256").
 * \param result   0 if it passed, else the non-zero value the test returned.
 */
typedef void (*stapler_selftest_report_fn)(void *context, const char *name, int result);

/**
 * \brief Run every enabled known-answer test.
 *
 * Needs Mbed TLS's platform set up (stapler_mbedtls_platform_setup(): PSA started, the arena
 * for parsing the test keys). Hashes SHA-1 to SHA-512, base64, and per configured algorithm
 * one signature that must verify and the same with a bit flipped that must not ("rsa-pkcs1v15",
 * "rsa-pss", "ecdsa-p256", "ecdsa-p384"). Takes milliseconds on a PC and well under a second
 * on a 25 MHz Cortex-M4 (benchmark figures: docs/DESIGN.md).
 *
 * \param report   Called after each test; may be NULL.
 * \param context  Passed to \p report.
 * \param run      If not NULL, receives the number of tests run.
 * \return STAPLER_OK if all passed, STAPLER_ERR_SELFTEST_FAILED if any failed (all are run
 *         regardless), STAPLER_ERR_INVALID_ARGUMENT if CONFIG_STAPLER_SELFTEST is off.
 */
int stapler_selftest_run(stapler_selftest_report_fn report, void *context, unsigned *run);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_SELFTEST_H */
