/*
 * Every Stapler error code, once: STAPLER_ERROR(code, slug, message) per code, in the order
 * of stapler/error.h. Private to error.c and error_name.c, which define STAPLER_ERROR to
 * build their tables and then include this file (so it has no include guard).
 *
 *   code     the stapler_err_t value (or port code); its name is the identifier itself
 *   slug     stable snake_case identifier for logs and JSON: never changes once released
 *   message  what went wrong and what to do, in one sentence (left out of images built
 *            without CONFIG_STAPLER_ERROR_MESSAGES)
 */

/* General */
STAPLER_ERROR(STAPLER_OK, "ok",
    "success")
STAPLER_ERROR(STAPLER_ERR_INVALID_ARGUMENT, "invalid_argument",
    "a Stapler function was called with an invalid argument: this is a bug in the caller; "
    "check the function's documented preconditions")
STAPLER_ERROR(STAPLER_ERR_BUFFER_TOO_SMALL, "buffer_too_small",
    "an output buffer is too small: size it with the STAPLER_* macro its header names")
STAPLER_ERROR(STAPLER_ERR_NO_MEMORY, "no_memory",
    "the Mbed TLS static arena is exhausted: raise CONFIG_STAPLER_MBEDTLS_ARENA_SIZE "
    "(menuconfig: Memory)")
STAPLER_ERROR(STAPLER_ERR_INTERNAL, "internal",
    "an internal consistency check failed: please report it with the log")
STAPLER_ERROR(STAPLER_ERR_SELFTEST_FAILED, "selftest_failed",
    "a cryptographic self-test failed: the Mbed TLS build for this target is broken "
    "(compiler, configuration or memory fault); do not trust this image")

/* OCSP codec and certificate extensions */
STAPLER_ERROR(STAPLER_ERR_OCSP_MALFORMED, "malformed",
    "the OCSP response is not well-formed DER: the responder (or something between, like a "
    "proxy's error page) sent something else; check the responder URL")
STAPLER_ERROR(STAPLER_ERR_OCSP_UNSUPPORTED_RESPONSE_TYPE, "unsupported_response_type",
    "the OCSP response is not a basic response (id-pkix-ocsp-basic), the only type RFC 6960 "
    "requires: the responder is not a standard OCSP responder")
STAPLER_ERROR(STAPLER_ERR_OCSP_CRITICAL_EXTENSION, "critical_extension",
    "the OCSP response has a critical extension Stapler does not understand, so it must be "
    "rejected (RFC 5280 4.2); ask the CA which extension its responder adds")
STAPLER_ERROR(STAPLER_ERR_OCSP_UNSUCCESSFUL, "unsuccessful_response",
    "the responder answered with an error status (see response status): tryLater means retry "
    "later; unauthorized means it does not serve this CA, so check the responder URL")
STAPLER_ERROR(STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE, "cert_not_in_response",
    "the OCSP response does not cover this certificate: check that the issuer certificate is "
    "the one that issued it and the responder URL belongs to that CA")
STAPLER_ERROR(STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM, "unsupported_algorithm",
    "the OCSP response uses a signature or hash algorithm this build does not support: "
    "enable it in Kconfig (menuconfig: OCSP) if it is RSA or ECDSA P-256/P-384")
STAPLER_ERROR(STAPLER_ERR_OCSP_SHA1_SIGNATURE, "sha1_signature",
    "the OCSP response is signed with SHA-1, which this build rejects: enable "
    "CONFIG_STAPLER_ALLOW_SHA1_SIGNATURES or ask the CA for a SHA-256 responder")
STAPLER_ERROR(STAPLER_ERR_OCSP_BAD_SIGNATURE, "bad_signature",
    "the OCSP response's signature does not verify: it was altered or not signed by the key "
    "it names; it is not used")
STAPLER_ERROR(STAPLER_ERR_OCSP_RESPONDER_CERT_MISSING, "responder_cert_missing",
    "the OCSP response is signed by a delegated responder whose certificate is not in the "
    "response, so it cannot be checked; the responder is misconfigured")
STAPLER_ERROR(STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED, "responder_not_authorized",
    "the OCSP response is signed by a certificate that may not answer for this CA (not the "
    "issuer, nor issued by it with id-kp-OCSPSigning); it is not used")
STAPLER_ERROR(STAPLER_ERR_OCSP_RESPONDER_CERT_EXPIRED, "responder_cert_expired",
    "the delegated OCSP responder's certificate is not valid now: if the device clock is "
    "right, the CA must renew its responder certificate")
STAPLER_ERROR(STAPLER_ERR_OCSP_NONCE_MISMATCH, "nonce_mismatch",
    "the OCSP response does not echo the nonce Stapler sent (a replay, or a responder that "
    "ignores nonces: turn nonces off for it)")
STAPLER_ERROR(STAPLER_ERR_OCSP_NOT_YET_VALID, "not_yet_valid",
    "the OCSP response is dated in the future: the device clock is probably behind; check "
    "the time source (SNTP)")
STAPLER_ERROR(STAPLER_ERR_OCSP_EXPIRED, "expired",
    "the OCSP response is past its nextUpdate: fetch a fresh one; if fresh ones also fail "
    "this way, the device clock is probably ahead")
STAPLER_ERROR(STAPLER_ERR_OCSP_NONCE_IGNORED, "nonce_ignored",
    "the responder ignored the nonce Stapler sent (its response carries none): it serves "
    "pre-produced responses (RFC 9919), so turn CONFIG_STAPLER_OCSP_NONCE off for it")
STAPLER_ERROR(STAPLER_ERR_CERT_NO_OCSP_URL, "no_ocsp_url",
    "the certificate names no OCSP responder (no id-ad-ocsp URL in its Authority Information "
    "Access): configure a responder URL override for it")
STAPLER_ERROR(STAPLER_ERR_CERT_MALFORMED_EXTENSION, "malformed_extension",
    "the certificate's Authority Information Access or TLS Feature extension is malformed: "
    "the certificate must be reissued")
STAPLER_ERROR(STAPLER_ERR_CERT_MALFORMED, "malformed_certificate",
    "the certificate is not well-formed DER X.509 (RFC 5280 4.1): provision a correct copy")

/* Staple cache and credential store */
STAPLER_ERROR(STAPLER_ERR_CACHE_EMPTY, "cache_empty",
    "no staple is cached in flash yet: one will be fetched (normal on first boot)")
STAPLER_ERROR(STAPLER_ERR_CACHE_CORRUPT, "cache_corrupt",
    "the cached staple in flash no longer passes its CRC (bit flips or worn flash): it is "
    "not used and a fresh one will be fetched; if this repeats, check the flash")
STAPLER_ERROR(STAPLER_ERR_CACHE_GEOMETRY, "flash_geometry",
    "the flash region the port gives Stapler does not match the configured layout: set "
    "CONFIG_STAPLER_FLASH_SECTOR_SIZE to the flash's erase size and give at least "
    "STAPLER_FLASH_REGION_SIZE bytes")
STAPLER_ERROR(STAPLER_ERR_CACHE_TOO_LARGE, "response_too_large",
    "the OCSP response is larger than CONFIG_STAPLER_RESPONSE_MAX: raise it (menuconfig: "
    "OCSP) if the responder legitimately sends such responses")
STAPLER_ERROR(STAPLER_ERR_CACHE_WRITE_FAILED, "flash_write_failed",
    "writing the staple to flash did not read back correctly (worn or faulty flash): the "
    "previous staple is kept; the write is retried on the next refresh")
STAPLER_ERROR(STAPLER_ERR_CRED_MISSING, "not_provisioned",
    "the device has no credentials in flash: provision it (stapler-sim provision writes "
    "the image)")
STAPLER_ERROR(STAPLER_ERR_CRED_CORRUPT, "credentials_corrupt",
    "the credential store in flash fails its CRC or format checks: re-provision the "
    "device; nothing from it is used")
STAPLER_ERROR(STAPLER_ERR_CRED_VERSION, "credentials_version",
    "the credential store was written by a newer Stapler: update the firmware or "
    "re-provision with this version's tools")
STAPLER_ERROR(STAPLER_ERR_CRED_TOO_LARGE, "credentials_too_large",
    "the credentials do not fit the credential area: raise CONFIG_STAPLER_CREDENTIAL_SECTORS "
    "(menuconfig: Flash layout)")

/* Agent and refresh */
STAPLER_ERROR(STAPLER_ERR_AGENT_NO_STAPLE, "no_staple",
    "no valid OCSP response is held for this certificate now: the handshake goes "
    "unstapled until a fetch succeeds (see the identity's last error)")
STAPLER_ERROR(STAPLER_ERR_AGENT_NOT_NEWER, "not_newer",
    "the response is not newer than the one held: it is ignored (no rollback to an older "
    "response, even a valid one)")
STAPLER_ERROR(STAPLER_ERR_AGENT_STATUS_UNKNOWN, "status_unknown",
    "the responder does not know this certificate (status unknown): the last good response "
    "is kept; check that the responder URL belongs to the issuing CA")
STAPLER_ERROR(STAPLER_ERR_AGENT_CERT_CHANGED, "certificate_changed",
    "the cached staple is for a certificate this identity no longer has (re-provisioned): "
    "it is ignored and a fresh one will be fetched")
STAPLER_ERROR(STAPLER_ERR_AGENT_NO_IDENTITY, "no_such_identity",
    "no such identity, or it has no OCSP responder (no URL in the certificate and no "
    "override): provision it with --url if it needs stapling")
STAPLER_ERROR(STAPLER_ERR_AGENT_BUSY, "staple_in_use",
    "a TLS handshake is sending the current staple, which must not change under it: offer "
    "the response again once the handshake is over (fetched responses wait by themselves)")

/* HTTP client */
STAPLER_ERROR(STAPLER_ERR_HTTP_URL, "bad_url",
    "the responder URL is not of the form http://host[:port][/path] (or holds spaces or "
    "control characters): fix the certificate's AIA or the provisioned --url override")
STAPLER_ERROR(STAPLER_ERR_HTTP_SCHEME, "unsupported_url_scheme",
    "the responder URL is not plain http:// (OCSP is served over http, RFC 6960 A.1): "
    "provision an http:// URL override")
STAPLER_ERROR(STAPLER_ERR_HTTP_MALFORMED, "http_malformed",
    "the responder's answer is not a well-formed HTTP/1.x response (bad status line, "
    "header or chunk framing): check the URL points at an OCSP responder")
STAPLER_ERROR(STAPLER_ERR_HTTP_HEADERS_TOO_LARGE, "http_headers_too_large",
    "the responder sent more header data than an OCSP answer ever needs: it is not an "
    "OCSP responder, or something in between is misbehaving")
STAPLER_ERROR(STAPLER_ERR_HTTP_CLIENT_ERROR, "http_client_error",
    "the responder refused the request with HTTP 4xx (403: access denied, 404: wrong path, "
    "400: bad request): check the responder URL; the last good staple is kept")
STAPLER_ERROR(STAPLER_ERR_HTTP_SERVER_ERROR, "http_server_error",
    "the responder failed with HTTP 5xx: it is down or overloaded; retrying with backoff "
    "(honouring Retry-After) and keeping the last good staple")
STAPLER_ERROR(STAPLER_ERR_HTTP_REDIRECT, "http_redirect",
    "the responder redirected elsewhere: update the URL override to the new location, or "
    "allow redirects with CONFIG_STAPLER_HTTP_MAX_REDIRECTS")
STAPLER_ERROR(STAPLER_ERR_HTTP_UNEXPECTED_STATUS, "http_unexpected_status",
    "the responder answered with an HTTP status other than 200 that carries no OCSP "
    "response: check the responder URL")
STAPLER_ERROR(STAPLER_ERR_HTTP_CONTENT_TYPE, "wrong_content_type",
    "the responder answered 200 but not with application/ocsp-response (often an HTML "
    "error or login page from a proxy or a moved site): check the URL and any proxy")
STAPLER_ERROR(STAPLER_ERR_HTTP_TOO_LARGE, "body_too_large",
    "the response body is larger than CONFIG_STAPLER_RESPONSE_MAX: it was not read; raise "
    "the limit if the responder really sends responses this large")
STAPLER_ERROR(STAPLER_ERR_HTTP_TRUNCATED, "truncated",
    "the connection ended before the whole response arrived: a network or responder "
    "problem; retrying with backoff")
STAPLER_ERROR(STAPLER_ERR_HTTP_CONNECT_TIMEOUT, "connect_timeout",
    "resolving and connecting to the responder took longer than "
    "CONFIG_STAPLER_HTTP_CONNECT_TIMEOUT_MS: check the network, DNS and any proxy")
STAPLER_ERROR(STAPLER_ERR_HTTP_IDLE_TIMEOUT, "idle_timeout",
    "the responder went silent for longer than CONFIG_STAPLER_HTTP_IDLE_TIMEOUT_MS: it is "
    "hanging or overloaded; retrying with backoff")
STAPLER_ERROR(STAPLER_ERR_HTTP_TOTAL_TIMEOUT, "total_timeout",
    "the fetch took longer than CONFIG_STAPLER_HTTP_TOTAL_TIMEOUT_MS (a responder dripping "
    "data slowly): retrying with backoff")
STAPLER_ERROR(STAPLER_ERR_HTTP_TRANSFER_CODING, "unsupported_transfer_coding",
    "the responder used a transfer coding other than chunked (Stapler does not ask for "
    "compression): check for a misconfigured proxy or responder")

/* TLS stapling */
STAPLER_ERROR(STAPLER_ERR_TLS_MUST_STAPLE, "must_staple_without_staple",
    "our certificate is must-staple (RFC 7633) and no valid staple is cached, so every peer "
    "would reject it: it was not presented (as a server, the ClientHello got alert "
    "handshake_failure); the agent keeps fetching (see status and the log)")
STAPLER_ERROR(STAPLER_ERR_TLS_PEER_NO_STAPLE, "peer_no_staple",
    "the peer sent no OCSP staple although its certificate is must-staple (or staples are "
    "required): the handshake was aborted with alert 113; the peer must staple")
STAPLER_ERROR(STAPLER_ERR_TLS_PEER_BAD_STAPLE, "peer_bad_staple",
    "the peer's OCSP staple does not verify (signature, signer, time, or not for its "
    "certificate): the handshake was aborted with alert 113")
STAPLER_ERROR(STAPLER_ERR_TLS_PEER_REVOKED, "peer_revoked",
    "the peer's own OCSP staple says its certificate is revoked: the handshake was aborted "
    "with alert 113")
STAPLER_ERROR(STAPLER_ERR_TLS_PEER_UNKNOWN, "peer_status_unknown",
    "the peer's OCSP staple says its certificate's status is unknown: the handshake was "
    "aborted with alert 113")
STAPLER_ERROR(STAPLER_ERR_TLS_PEER_NO_ISSUER, "peer_issuer_unknown",
    "the issuer of the peer's certificate is neither in its chain nor in our trust anchors, "
    "so its staple cannot be checked: the handshake was aborted with alert 113")

/* Port (platform) errors, passed through unchanged */
STAPLER_ERROR(STAPLER_PORT_ERR_IO, "port_io",
    "the platform port reported an input/output failure: see the port's log")
STAPLER_ERROR(STAPLER_PORT_ERR_RANGE, "port_range",
    "the platform port was asked for a flash range outside its region: the flash layout "
    "does not match the port's geometry")
STAPLER_ERROR(STAPLER_PORT_ERR_NO_ENTROPY, "no_entropy",
    "the platform has no entropy available now: check the TRNG driver")
STAPLER_ERROR(STAPLER_PORT_ERR_DNS, "dns",
    "the responder's host name did not resolve: check the DNS server and the URL (or use "
    "a proxy)")
STAPLER_ERROR(STAPLER_PORT_ERR_REFUSED, "connection_refused",
    "the responder refused the connection: nothing listens on that host and port; check "
    "the URL's port")
STAPLER_ERROR(STAPLER_PORT_ERR_RESET, "connection_reset",
    "the connection was reset by the responder or the network: retrying with backoff")
STAPLER_ERROR(STAPLER_PORT_ERR_NO_RESOURCES, "network_no_resources",
    "the network stack has no free connection or buffer: raise lwIP's MEMP_NUM_TCP_PCB or "
    "pool sizes")
STAPLER_ERROR(STAPLER_PORT_ERR_UNREACHABLE, "network_unreachable",
    "the network is unreachable (no address, no route or link down): check the "
    "interface and DHCP")
STAPLER_ERROR(STAPLER_PORT_ERR_CLOSED, "connection_closed",
    "the peer closed the connection (end of stream): reported only if a response was "
    "incomplete")
STAPLER_ERROR(STAPLER_PORT_ERR_TIMEOUT, "tcp_timeout",
    "the network stack gave up on the connection (no answer to retransmissions): the "
    "responder or the path to it is down")
