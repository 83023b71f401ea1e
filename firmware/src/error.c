/* Error names and messages: see stapler/error.h. */
#include "stapler/error.h"

#include <stddef.h>

#include "stapler_port.h"

typedef struct {
    int code;
    const char *name;
    const char *message;
} stapler_error_entry_t;

/* The stable snake_case identifier of a code: its name without the STAPLER_ERR_ (and,
 * for the codec, OCSP_) prefix, lower-cased. Kept here as data so it cannot drift. */
typedef struct {
    int code;
    const char *slug;
} stapler_error_slug_t;

static const stapler_error_slug_t stapler_error_slugs[] = {
    { STAPLER_OK, "ok" },
    { STAPLER_ERR_INVALID_ARGUMENT, "invalid_argument" },
    { STAPLER_ERR_BUFFER_TOO_SMALL, "buffer_too_small" },
    { STAPLER_ERR_NO_MEMORY, "no_memory" },
    { STAPLER_ERR_INTERNAL, "internal" },
    { STAPLER_ERR_SELFTEST_FAILED, "selftest_failed" },
    { STAPLER_ERR_OCSP_MALFORMED, "malformed" },
    { STAPLER_ERR_OCSP_UNSUPPORTED_RESPONSE_TYPE, "unsupported_response_type" },
    { STAPLER_ERR_OCSP_CRITICAL_EXTENSION, "critical_extension" },
    { STAPLER_ERR_OCSP_UNSUCCESSFUL, "unsuccessful_response" },
    { STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE, "cert_not_in_response" },
    { STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM, "unsupported_algorithm" },
    { STAPLER_ERR_OCSP_SHA1_SIGNATURE, "sha1_signature" },
    { STAPLER_ERR_OCSP_BAD_SIGNATURE, "bad_signature" },
    { STAPLER_ERR_OCSP_RESPONDER_CERT_MISSING, "responder_cert_missing" },
    { STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED, "responder_not_authorized" },
    { STAPLER_ERR_OCSP_RESPONDER_CERT_EXPIRED, "responder_cert_expired" },
    { STAPLER_ERR_OCSP_NONCE_MISMATCH, "nonce_mismatch" },
    { STAPLER_ERR_OCSP_NOT_YET_VALID, "not_yet_valid" },
    { STAPLER_ERR_OCSP_EXPIRED, "expired" },
    { STAPLER_ERR_CERT_NO_OCSP_URL, "no_ocsp_url" },
    { STAPLER_ERR_CERT_MALFORMED_EXTENSION, "malformed_extension" },
    { STAPLER_ERR_CACHE_EMPTY, "cache_empty" },
    { STAPLER_ERR_CACHE_CORRUPT, "cache_corrupt" },
    { STAPLER_ERR_CACHE_GEOMETRY, "flash_geometry" },
    { STAPLER_ERR_CACHE_TOO_LARGE, "response_too_large" },
    { STAPLER_ERR_CACHE_WRITE_FAILED, "flash_write_failed" },
    { STAPLER_ERR_CRED_MISSING, "not_provisioned" },
    { STAPLER_ERR_CRED_CORRUPT, "credentials_corrupt" },
    { STAPLER_ERR_CRED_VERSION, "credentials_version" },
    { STAPLER_ERR_CRED_TOO_LARGE, "credentials_too_large" },
    { STAPLER_ERR_AGENT_NO_STAPLE, "no_staple" },
    { STAPLER_ERR_AGENT_NOT_NEWER, "not_newer" },
    { STAPLER_ERR_AGENT_STATUS_UNKNOWN, "status_unknown" },
    { STAPLER_ERR_AGENT_CERT_CHANGED, "certificate_changed" },
    { STAPLER_ERR_AGENT_NO_IDENTITY, "no_such_identity" },
    { STAPLER_ERR_AGENT_BUSY, "staple_in_use" },
    { STAPLER_ERR_HTTP_URL, "bad_url" },
    { STAPLER_ERR_HTTP_SCHEME, "unsupported_url_scheme" },
    { STAPLER_ERR_HTTP_MALFORMED, "http_malformed" },
    { STAPLER_ERR_HTTP_HEADERS_TOO_LARGE, "http_headers_too_large" },
    { STAPLER_ERR_HTTP_CLIENT_ERROR, "http_client_error" },
    { STAPLER_ERR_HTTP_SERVER_ERROR, "http_server_error" },
    { STAPLER_ERR_HTTP_REDIRECT, "http_redirect" },
    { STAPLER_ERR_HTTP_UNEXPECTED_STATUS, "http_unexpected_status" },
    { STAPLER_ERR_HTTP_CONTENT_TYPE, "wrong_content_type" },
    { STAPLER_ERR_HTTP_TOO_LARGE, "body_too_large" },
    { STAPLER_ERR_HTTP_TRUNCATED, "truncated" },
    { STAPLER_ERR_HTTP_CONNECT_TIMEOUT, "connect_timeout" },
    { STAPLER_ERR_HTTP_IDLE_TIMEOUT, "idle_timeout" },
    { STAPLER_ERR_HTTP_TOTAL_TIMEOUT, "total_timeout" },
    { STAPLER_ERR_HTTP_TRANSFER_CODING, "unsupported_transfer_coding" },
    { STAPLER_ERR_TLS_MUST_STAPLE, "must_staple_without_staple" },
    { STAPLER_ERR_TLS_PEER_NO_STAPLE, "peer_no_staple" },
    { STAPLER_ERR_TLS_PEER_BAD_STAPLE, "peer_bad_staple" },
    { STAPLER_ERR_TLS_PEER_REVOKED, "peer_revoked" },
    { STAPLER_ERR_TLS_PEER_UNKNOWN, "peer_status_unknown" },
    { STAPLER_ERR_TLS_PEER_NO_ISSUER, "peer_issuer_unknown" },
    { STAPLER_PORT_ERR_IO, "port_io" },
    { STAPLER_PORT_ERR_RANGE, "port_range" },
    { STAPLER_PORT_ERR_NO_ENTROPY, "no_entropy" },
    { STAPLER_PORT_ERR_DNS, "dns" },
    { STAPLER_PORT_ERR_REFUSED, "connection_refused" },
    { STAPLER_PORT_ERR_RESET, "connection_reset" },
    { STAPLER_PORT_ERR_NO_RESOURCES, "network_no_resources" },
    { STAPLER_PORT_ERR_UNREACHABLE, "network_unreachable" },
    { STAPLER_PORT_ERR_CLOSED, "connection_closed" },
    { STAPLER_PORT_ERR_TIMEOUT, "tcp_timeout" },
};

static const stapler_error_entry_t stapler_error_table[] = {
    { STAPLER_OK, "STAPLER_OK", "success" },
    { STAPLER_ERR_INVALID_ARGUMENT, "STAPLER_ERR_INVALID_ARGUMENT",
      "a Stapler function was called with an invalid argument: this is a bug in the caller; "
      "check the function's documented preconditions" },
    { STAPLER_ERR_BUFFER_TOO_SMALL, "STAPLER_ERR_BUFFER_TOO_SMALL",
      "an output buffer is too small: size it with the STAPLER_* macro its header names" },
    { STAPLER_ERR_NO_MEMORY, "STAPLER_ERR_NO_MEMORY",
      "the Mbed TLS static arena is exhausted: raise CONFIG_STAPLER_MBEDTLS_ARENA_SIZE "
      "(menuconfig: Memory)" },
    { STAPLER_ERR_INTERNAL, "STAPLER_ERR_INTERNAL",
      "an internal consistency check failed: please report it with the log" },
    { STAPLER_ERR_SELFTEST_FAILED, "STAPLER_ERR_SELFTEST_FAILED",
      "a cryptographic self-test failed: the Mbed TLS build for this target is broken "
      "(compiler, configuration or memory fault); do not trust this image" },
    { STAPLER_ERR_OCSP_MALFORMED, "STAPLER_ERR_OCSP_MALFORMED",
      "the OCSP response is not well-formed DER: the responder (or something between, like a "
      "proxy's error page) sent something else; check the responder URL" },
    { STAPLER_ERR_OCSP_UNSUPPORTED_RESPONSE_TYPE, "STAPLER_ERR_OCSP_UNSUPPORTED_RESPONSE_TYPE",
      "the OCSP response is not a basic response (id-pkix-ocsp-basic), the only type RFC 6960 "
      "requires: the responder is not a standard OCSP responder" },
    { STAPLER_ERR_OCSP_CRITICAL_EXTENSION, "STAPLER_ERR_OCSP_CRITICAL_EXTENSION",
      "the OCSP response has a critical extension Stapler does not understand, so it must be "
      "rejected (RFC 5280 4.2); ask the CA which extension its responder adds" },
    { STAPLER_ERR_OCSP_UNSUCCESSFUL, "STAPLER_ERR_OCSP_UNSUCCESSFUL",
      "the responder answered with an error status (see response status): tryLater means retry "
      "later; unauthorized means it does not serve this CA, so check the responder URL" },
    { STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE, "STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE",
      "the OCSP response does not cover this certificate: check that the issuer certificate is "
      "the one that issued it and the responder URL belongs to that CA" },
    { STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM, "STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM",
      "the OCSP response uses a signature or hash algorithm this build does not support: "
      "enable it in Kconfig (menuconfig: OCSP) if it is RSA or ECDSA P-256/P-384" },
    { STAPLER_ERR_OCSP_SHA1_SIGNATURE, "STAPLER_ERR_OCSP_SHA1_SIGNATURE",
      "the OCSP response is signed with SHA-1, which this build rejects: enable "
      "CONFIG_STAPLER_ALLOW_SHA1_SIGNATURES or ask the CA for a SHA-256 responder" },
    { STAPLER_ERR_OCSP_BAD_SIGNATURE, "STAPLER_ERR_OCSP_BAD_SIGNATURE",
      "the OCSP response's signature does not verify: it was altered or not signed by the key "
      "it names; it is not used" },
    { STAPLER_ERR_OCSP_RESPONDER_CERT_MISSING, "STAPLER_ERR_OCSP_RESPONDER_CERT_MISSING",
      "the OCSP response is signed by a delegated responder whose certificate is not in the "
      "response, so it cannot be checked; the responder is misconfigured" },
    { STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED, "STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED",
      "the OCSP response is signed by a certificate that may not answer for this CA (not the "
      "issuer, nor issued by it with id-kp-OCSPSigning); it is not used" },
    { STAPLER_ERR_OCSP_RESPONDER_CERT_EXPIRED, "STAPLER_ERR_OCSP_RESPONDER_CERT_EXPIRED",
      "the delegated OCSP responder's certificate is not valid now: if the device clock is "
      "right, the CA must renew its responder certificate" },
    { STAPLER_ERR_OCSP_NONCE_MISMATCH, "STAPLER_ERR_OCSP_NONCE_MISMATCH",
      "the OCSP response does not echo the nonce Stapler sent (a replay, or a responder that "
      "ignores nonces: turn nonces off for it)" },
    { STAPLER_ERR_OCSP_NOT_YET_VALID, "STAPLER_ERR_OCSP_NOT_YET_VALID",
      "the OCSP response is dated in the future: the device clock is probably behind; check "
      "the time source (SNTP)" },
    { STAPLER_ERR_OCSP_EXPIRED, "STAPLER_ERR_OCSP_EXPIRED",
      "the OCSP response is past its nextUpdate: fetch a fresh one; if fresh ones also fail "
      "this way, the device clock is probably ahead" },
    { STAPLER_ERR_CERT_NO_OCSP_URL, "STAPLER_ERR_CERT_NO_OCSP_URL",
      "the certificate names no OCSP responder (no id-ad-ocsp URL in its Authority Information "
      "Access): configure a responder URL override for it" },
    { STAPLER_ERR_CERT_MALFORMED_EXTENSION, "STAPLER_ERR_CERT_MALFORMED_EXTENSION",
      "the certificate's Authority Information Access or TLS Feature extension is malformed: "
      "the certificate must be reissued" },
    { STAPLER_ERR_CACHE_EMPTY, "STAPLER_ERR_CACHE_EMPTY",
      "no staple is cached in flash yet: one will be fetched (normal on first boot)" },
    { STAPLER_ERR_CACHE_CORRUPT, "STAPLER_ERR_CACHE_CORRUPT",
      "the cached staple in flash no longer passes its CRC (bit flips or worn flash): it is "
      "not used and a fresh one will be fetched; if this repeats, check the flash" },
    { STAPLER_ERR_CACHE_GEOMETRY, "STAPLER_ERR_CACHE_GEOMETRY",
      "the flash region the port gives Stapler does not match the configured layout: set "
      "CONFIG_STAPLER_FLASH_SECTOR_SIZE to the flash's erase size and give at least "
      "STAPLER_FLASH_REGION_SIZE bytes" },
    { STAPLER_ERR_CACHE_TOO_LARGE, "STAPLER_ERR_CACHE_TOO_LARGE",
      "the OCSP response is larger than CONFIG_STAPLER_RESPONSE_MAX: raise it (menuconfig: "
      "OCSP) if the responder legitimately sends such responses" },
    { STAPLER_ERR_CACHE_WRITE_FAILED, "STAPLER_ERR_CACHE_WRITE_FAILED",
      "writing the staple to flash did not read back correctly (worn or faulty flash): the "
      "previous staple is kept; the write is retried on the next refresh" },
    { STAPLER_ERR_CRED_MISSING, "STAPLER_ERR_CRED_MISSING",
      "the device has no credentials in flash: provision it (stapler-sim provision writes "
      "the image)" },
    { STAPLER_ERR_CRED_CORRUPT, "STAPLER_ERR_CRED_CORRUPT",
      "the credential store in flash fails its CRC or format checks: re-provision the "
      "device; nothing from it is used" },
    { STAPLER_ERR_CRED_VERSION, "STAPLER_ERR_CRED_VERSION",
      "the credential store was written by a newer Stapler: update the firmware or "
      "re-provision with this version's tools" },
    { STAPLER_ERR_CRED_TOO_LARGE, "STAPLER_ERR_CRED_TOO_LARGE",
      "the credentials do not fit the credential area: raise CONFIG_STAPLER_CREDENTIAL_SECTORS "
      "(menuconfig: Flash layout)" },
    { STAPLER_ERR_AGENT_NO_STAPLE, "STAPLER_ERR_AGENT_NO_STAPLE",
      "no valid OCSP response is held for this certificate now: the handshake goes "
      "unstapled until a fetch succeeds (see the identity's last error)" },
    { STAPLER_ERR_AGENT_NOT_NEWER, "STAPLER_ERR_AGENT_NOT_NEWER",
      "the response is not newer than the one held: it is ignored (no rollback to an older "
      "response, even a valid one)" },
    { STAPLER_ERR_AGENT_STATUS_UNKNOWN, "STAPLER_ERR_AGENT_STATUS_UNKNOWN",
      "the responder does not know this certificate (status unknown): the last good response "
      "is kept; check that the responder URL belongs to the issuing CA" },
    { STAPLER_ERR_AGENT_CERT_CHANGED, "STAPLER_ERR_AGENT_CERT_CHANGED",
      "the cached staple is for a certificate this identity no longer has (re-provisioned): "
      "it is ignored and a fresh one will be fetched" },
    { STAPLER_ERR_AGENT_NO_IDENTITY, "STAPLER_ERR_AGENT_NO_IDENTITY",
      "no such identity, or it has no OCSP responder (no URL in the certificate and no "
      "override): provision it with --url if it needs stapling" },
    { STAPLER_ERR_AGENT_BUSY, "STAPLER_ERR_AGENT_BUSY",
      "a TLS handshake is sending the current staple, which must not change under it: offer "
      "the response again once the handshake is over (fetched responses wait by themselves)" },
    { STAPLER_ERR_HTTP_URL, "STAPLER_ERR_HTTP_URL",
      "the responder URL is not of the form http://host[:port][/path] (or holds spaces or "
      "control characters): fix the certificate's AIA or the provisioned --url override" },
    { STAPLER_ERR_HTTP_SCHEME, "STAPLER_ERR_HTTP_SCHEME",
      "the responder URL is not plain http:// (OCSP is served over http, RFC 6960 A.1): "
      "provision an http:// URL override" },
    { STAPLER_ERR_HTTP_MALFORMED, "STAPLER_ERR_HTTP_MALFORMED",
      "the responder's answer is not a well-formed HTTP/1.x response (bad status line, "
      "header or chunk framing): check the URL points at an OCSP responder" },
    { STAPLER_ERR_HTTP_HEADERS_TOO_LARGE, "STAPLER_ERR_HTTP_HEADERS_TOO_LARGE",
      "the responder sent more header data than an OCSP answer ever needs: it is not an "
      "OCSP responder, or something in between is misbehaving" },
    { STAPLER_ERR_HTTP_CLIENT_ERROR, "STAPLER_ERR_HTTP_CLIENT_ERROR",
      "the responder refused the request with HTTP 4xx (403: access denied, 404: wrong path, "
      "400: bad request): check the responder URL; the last good staple is kept" },
    { STAPLER_ERR_HTTP_SERVER_ERROR, "STAPLER_ERR_HTTP_SERVER_ERROR",
      "the responder failed with HTTP 5xx: it is down or overloaded; retrying with backoff "
      "(honouring Retry-After) and keeping the last good staple" },
    { STAPLER_ERR_HTTP_REDIRECT, "STAPLER_ERR_HTTP_REDIRECT",
      "the responder redirected elsewhere: update the URL override to the new location, or "
      "allow redirects with CONFIG_STAPLER_HTTP_MAX_REDIRECTS" },
    { STAPLER_ERR_HTTP_UNEXPECTED_STATUS, "STAPLER_ERR_HTTP_UNEXPECTED_STATUS",
      "the responder answered with an HTTP status other than 200 that carries no OCSP "
      "response: check the responder URL" },
    { STAPLER_ERR_HTTP_CONTENT_TYPE, "STAPLER_ERR_HTTP_CONTENT_TYPE",
      "the responder answered 200 but not with application/ocsp-response (often an HTML "
      "error or login page from a proxy or a moved site): check the URL and any proxy" },
    { STAPLER_ERR_HTTP_TOO_LARGE, "STAPLER_ERR_HTTP_TOO_LARGE",
      "the response body is larger than CONFIG_STAPLER_RESPONSE_MAX: it was not read; raise "
      "the limit if the responder really sends responses this large" },
    { STAPLER_ERR_HTTP_TRUNCATED, "STAPLER_ERR_HTTP_TRUNCATED",
      "the connection ended before the whole response arrived: a network or responder "
      "problem; retrying with backoff" },
    { STAPLER_ERR_HTTP_CONNECT_TIMEOUT, "STAPLER_ERR_HTTP_CONNECT_TIMEOUT",
      "resolving and connecting to the responder took longer than "
      "CONFIG_STAPLER_HTTP_CONNECT_TIMEOUT_MS: check the network, DNS and any proxy" },
    { STAPLER_ERR_HTTP_IDLE_TIMEOUT, "STAPLER_ERR_HTTP_IDLE_TIMEOUT",
      "the responder went silent for longer than CONFIG_STAPLER_HTTP_IDLE_TIMEOUT_MS: it is "
      "hanging or overloaded; retrying with backoff" },
    { STAPLER_ERR_HTTP_TOTAL_TIMEOUT, "STAPLER_ERR_HTTP_TOTAL_TIMEOUT",
      "the fetch took longer than CONFIG_STAPLER_HTTP_TOTAL_TIMEOUT_MS (a responder dripping "
      "data slowly): retrying with backoff" },
    { STAPLER_ERR_HTTP_TRANSFER_CODING, "STAPLER_ERR_HTTP_TRANSFER_CODING",
      "the responder used a transfer coding other than chunked (Stapler does not ask for "
      "compression): check for a misconfigured proxy or responder" },
    { STAPLER_ERR_TLS_MUST_STAPLE, "STAPLER_ERR_TLS_MUST_STAPLE",
      "our certificate is must-staple (RFC 7633) and no valid staple is cached, so every peer "
      "would reject it: the handshake was refused here; the agent keeps fetching (see status)" },
    { STAPLER_ERR_TLS_PEER_NO_STAPLE, "STAPLER_ERR_TLS_PEER_NO_STAPLE",
      "the peer sent no OCSP staple although its certificate is must-staple (or staples are "
      "required): the handshake was aborted with alert 113; the peer must staple" },
    { STAPLER_ERR_TLS_PEER_BAD_STAPLE, "STAPLER_ERR_TLS_PEER_BAD_STAPLE",
      "the peer's OCSP staple does not verify (signature, signer, time, or not for its "
      "certificate): the handshake was aborted with alert 113" },
    { STAPLER_ERR_TLS_PEER_REVOKED, "STAPLER_ERR_TLS_PEER_REVOKED",
      "the peer's own OCSP staple says its certificate is revoked: the handshake was aborted "
      "with alert 113" },
    { STAPLER_ERR_TLS_PEER_UNKNOWN, "STAPLER_ERR_TLS_PEER_UNKNOWN",
      "the peer's OCSP staple says its certificate's status is unknown: the handshake was "
      "aborted with alert 113" },
    { STAPLER_ERR_TLS_PEER_NO_ISSUER, "STAPLER_ERR_TLS_PEER_NO_ISSUER",
      "the issuer of the peer's certificate is neither in its chain nor in our trust anchors, "
      "so its staple cannot be checked: the handshake was aborted with alert 113" },
    { STAPLER_PORT_ERR_IO, "STAPLER_PORT_ERR_IO",
      "the platform port reported an input/output failure: see the port's log" },
    { STAPLER_PORT_ERR_RANGE, "STAPLER_PORT_ERR_RANGE",
      "the platform port was asked for a flash range outside its region: the flash layout "
      "does not match the port's geometry" },
    { STAPLER_PORT_ERR_NO_ENTROPY, "STAPLER_PORT_ERR_NO_ENTROPY",
      "the platform has no entropy available now: check the TRNG driver" },
    { STAPLER_PORT_ERR_DNS, "STAPLER_PORT_ERR_DNS",
      "the responder's host name did not resolve: check the DNS server and the URL (or use "
      "a proxy)" },
    { STAPLER_PORT_ERR_REFUSED, "STAPLER_PORT_ERR_REFUSED",
      "the responder refused the connection: nothing listens on that host and port; check "
      "the URL's port" },
    { STAPLER_PORT_ERR_RESET, "STAPLER_PORT_ERR_RESET",
      "the connection was reset by the responder or the network: retrying with backoff" },
    { STAPLER_PORT_ERR_NO_RESOURCES, "STAPLER_PORT_ERR_NO_RESOURCES",
      "the network stack has no free connection or buffer: raise lwIP's MEMP_NUM_TCP_PCB or "
      "pool sizes" },
    { STAPLER_PORT_ERR_UNREACHABLE, "STAPLER_PORT_ERR_UNREACHABLE",
      "the network is unreachable (no address, no route or link down): check the "
      "interface and DHCP" },
    { STAPLER_PORT_ERR_CLOSED, "STAPLER_PORT_ERR_CLOSED",
      "the peer closed the connection (end of stream): reported only if a response was "
      "incomplete" },
    { STAPLER_PORT_ERR_TIMEOUT, "STAPLER_PORT_ERR_TIMEOUT",
      "the network stack gave up on the connection (no answer to retransmissions): the "
      "responder or the path to it is down" },
};

static const stapler_error_entry_t *stapler_error_find(int err)
{
    size_t i;

    for (i = 0; i < sizeof(stapler_error_table) / sizeof(stapler_error_table[0]); i++) {
        if (stapler_error_table[i].code == err) {
            return &stapler_error_table[i];
        }
    }
    return NULL;
}

const char *stapler_error_name(int err)
{
    const stapler_error_entry_t *entry = stapler_error_find(err);

    return entry != NULL ? entry->name : "STAPLER_ERR_UNKNOWN";
}

const char *stapler_error_message(int err)
{
    const stapler_error_entry_t *entry = stapler_error_find(err);

    if (entry != NULL) {
        return entry->message;
    }
    if (err <= -0x1000 && err > -0x2000) {
        return "the platform port reported an error: see the port's documentation for this code";
    }
    return "unknown error code: the caller passed a value that is not a Stapler error";
}

const char *stapler_error_slug(int err)
{
    size_t i;

    for (i = 0; i < sizeof(stapler_error_slugs) / sizeof(stapler_error_slugs[0]); i++) {
        if (stapler_error_slugs[i].code == err) {
            return stapler_error_slugs[i].slug;
        }
    }
    return "unknown_error";
}
