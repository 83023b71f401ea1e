/**
 * \file stapler_posix.h
 * \brief POSIX port: start-up for the simulator and the host tests.
 */
#ifndef STAPLER_POSIX_H
#define STAPLER_POSIX_H

/**
 * \brief Set up Mbed TLS's static arena with output to stdout; call once at start-up.
 * \return 0, or the Mbed TLS error from the platform layer.
 */
int stapler_posix_mbedtls_setup(void);

#endif /* STAPLER_POSIX_H */
