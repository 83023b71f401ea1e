/**
 * \file cert.h
 * \brief What Stapler reads from a certificate beyond Mbed TLS's parser: the OCSP responder
 *        URLs (Authority Information Access) and the must-staple TLS Feature.
 *
 * Zero-copy: results point into the parsed certificate's raw DER, valid as long as it is.
 */
#ifndef STAPLER_CERT_H
#define STAPLER_CERT_H

#include <stddef.h>

#include "mbedtls/x509_crt.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief The \p index-th (from 0) OCSP responder URL in the certificate's Authority
 *        Information Access extension (RFC 5280 4.2.2.1, id-ad-ocsp).
 * \param url      Receives a pointer to the URL's characters (NOT NUL-terminated).
 * \param url_len  Receives its length.
 * \return 0; STAPLER_ERR_CERT_NO_OCSP_URL when there is no such URL (none at all, or
 *         fewer than index + 1); STAPLER_ERR_CERT_MALFORMED_EXTENSION.
 */
int stapler_cert_ocsp_url(const mbedtls_x509_crt *crt, unsigned index, const char **url,
                          size_t *url_len);

/**
 * \brief Whether the certificate requires a stapled OCSP response: an RFC 7633 TLS Feature
 *        extension listing status_request (5).
 * \return 1 if it does, 0 if not, or STAPLER_ERR_CERT_MALFORMED_EXTENSION.
 */
int stapler_cert_must_staple(const mbedtls_x509_crt *crt);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_CERT_H */
