/* Unit tests: the agent (firmware/src/agent.c) on emulated flash with clocks the test
 * drives: boot from cache, no rollback, revoked and unknown, expiry, untrusted time,
 * re-provisioned certificates, identities with nothing to fetch. */
#include <stdio.h>
#include <string.h>

#include "unity.h"

#include "stapler/agent.h"
#include "stapler/error.h"
#include "stapler_flash_sim.h"
#include "stapler_posix.h"
#include "test_support.h"

static unsigned char memory[STAPLER_FLASH_REGION_SIZE];
static stapler_flash_sim_t sim;
static stapler_port_t port;
static stapler_agent_t agent;
static int64_t wall;
static int wall_trusted;
static uint64_t monotonic;

static uint64_t test_monotonic_ms(void *context) { (void) context; return monotonic; }
static int test_wall_time(void *context, int64_t *utc, int *trusted)
{
    (void) context;
    *utc = wall;
    *trusted = wall_trusted;
    return 0;
}
static int test_entropy(void *context, void *buffer, size_t len) { (void) context; memset(buffer, 0x5A, len); return 0; }

static unsigned char der[3][8192];
static size_t der_len[3];

static void load(int slot, const char *name)
{
    long n = stapler_test_read(STAPLER_VECTOR_DIR, name, der[slot], sizeof(der[slot]));
    TEST_ASSERT_TRUE_MESSAGE(n > 0, name);
    der_len[slot] = (size_t) n;
}

/* Write a credential store for one identity (chain = `leaf`, issuer = `issuer`, and an
 * optional responder URL override). */
static void provision_with_url(const char *leaf, const char *issuer, const char *url)
{
    stapler_credential_input_t in;
    size_t length;

    load(0, leaf);
    load(1, issuer);
    memset(&in, 0, sizeof(in));
    in.chain_length = 1;
    in.chain[0] = der[0];
    in.chain_len[0] = der_len[0];
    in.issuer = der[1];
    in.issuer_len = der_len[1];
    in.url = url;
    memset(memory, 0xFF, STAPLER_CREDENTIAL_AREA_SIZE);
    TEST_ASSERT_EQUAL_INT(0, stapler_credentials_encode(&in, 1, memory, STAPLER_CREDENTIAL_AREA_SIZE, &length));
}

static void provision(const char *leaf, const char *issuer)
{
    provision_with_url(leaf, issuer, NULL);
}

static int offer(const char *name)
{
    load(2, name);
    return stapler_agent_offer(&agent, 0, der[2], der_len[2]);
}

static void boot(void)
{
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_init(&agent, &port));
}

/* Boot with nothing cached, and let the first fetch's spread pass
 * (CONFIG_STAPLER_BOOT_JITTER_NO_STAPLE_S): from then on it is due. */
static void first_boot(void)
{
    uint32_t wait = 0;
    unsigned identity;

    boot();
    if (stapler_agent_poll(&agent, &identity, &wait) == 0) {
        TEST_ASSERT_TRUE(wait <= (uint32_t) CONFIG_STAPLER_BOOT_JITTER_NO_STAPLE_S * 1000u);
        monotonic += wait;
        wall += (int64_t) (wait / 1000u) + 1;
        monotonic += 1000u;
    }
}

/* Trusted wall time one minute after the vectors' responses were made. */
static void set_time_near_vectors(void)
{
    stapler_ocsp_response_t response;

    load(2, "good-rsa-byname.der");
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_response_parse(&response, der[2], der_len[2]));
    wall = response.produced_at + 60;
    wall_trusted = 1;
}

static int serving(void)
{
    const unsigned char *p;
    size_t n;
    return stapler_agent_staple(&agent, 0, &p, &n) == 0;
}

void setUp(void)
{
    TEST_ASSERT_EQUAL_INT(0, stapler_posix_mbedtls_setup());
    stapler_flash_sim_init(&sim, memory, sizeof(memory), STAPLER_FLASH_SECTOR_SIZE, 16, NULL);
    memset(&port, 0, sizeof(port));
    port.context = &sim;
    port.monotonic_ms = test_monotonic_ms;
    port.wall_time = test_wall_time;
    port.entropy = test_entropy;
    port.flash = sim.flash;
    monotonic = 1000;
    set_time_near_vectors();
}

void tearDown(void) {}

static void test_unprovisioned_device_says_so(void)
{
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CRED_MISSING, stapler_agent_init(&agent, &port));
}

static void test_first_boot_has_no_staple_then_a_verified_offer_is_served(void)
{
    const unsigned char *p;
    size_t n;

    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(STAPLER_IDENTITY_NO_STAPLE, agent.identity[0].state);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_NO_STAPLE, stapler_agent_staple(&agent, 0, &p, &n));
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_staple(&agent, 0, &p, &n));
    TEST_ASSERT_EQUAL_size_t(der_len[2], n);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(der[2], p, n);
}

static void test_handshakes_are_counted_stapled_or_not_and_status_does_not_count(void)
{
    const unsigned char *p;
    size_t n;
    stapler_identity_status_t st;

    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_NO_STAPLE, stapler_agent_staple(&agent, 0, &p, &n));
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_staple(&agent, 0, &p, &n));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_staple(&agent, 0, &p, &n));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &st));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &st));
    TEST_ASSERT_EQUAL_UINT32(2, st.handshakes_stapled);
    TEST_ASSERT_EQUAL_UINT32(1, st.handshakes_unstapled);
    TEST_ASSERT_EQUAL_INT(1, st.serving);
}

static void test_after_reboot_the_cached_staple_is_served_before_any_network(void)
{
    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    boot(); /* reboot: nothing offered since */
    TEST_ASSERT_EQUAL_INT(STAPLER_IDENTITY_SERVING, agent.identity[0].state);
    TEST_ASSERT_TRUE(serving());
}

static void test_an_expired_cached_staple_is_not_served(void)
{
    stapler_identity_status_t status;

    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    wall = status.next_update + CONFIG_STAPLER_CLOCK_SKEW_S;
    TEST_ASSERT_TRUE(serving());
    wall += 1;
    TEST_ASSERT_FALSE(serving()); /* running: stops at nextUpdate + skew */
    boot();
    TEST_ASSERT_FALSE(serving()); /* and the cache does not bring it back */
}

static void test_no_rollback_only_strictly_newer_replaces(void)
{
    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-later.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_NOT_NEWER, offer("good-rsa-byname.der"));  /* older */
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_NOT_NEWER, offer("good-rsa-later.der"));   /* same */
    load(2, "good-rsa-later.der");
    TEST_ASSERT_EQUAL_HEX8_ARRAY(der[2], agent.identity[0].staple, der_len[2]);
}

static void test_newer_replaces_and_persists(void)
{
    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-later.der"));
    boot();
    load(2, "good-rsa-later.der");
    TEST_ASSERT_EQUAL_size_t(der_len[2], agent.identity[0].staple_len);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(der[2], agent.identity[0].staple, der_len[2]);
}

static void test_bad_responses_keep_the_last_good_one(void)
{
    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_BAD_SIGNATURE, offer("tampered-signature.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_UNSUCCESSFUL, offer("status-try-later.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_MALFORMED, offer("html.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE, offer("good-ec.der"));
    TEST_ASSERT_TRUE(serving());
    TEST_ASSERT_EQUAL_UINT32(4, agent.identity[0].offers_rejected);
}

static void test_unknown_keeps_the_last_good_one(void)
{
    provision("leaf-unknown.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_STATUS_UNKNOWN, offer("unknown.der"));
    TEST_ASSERT_FALSE(serving());
}

static void test_revoked_stops_serving_at_once_and_after_reboot(void)
{
    provision("leaf-revoked.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("revoked-reason.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_IDENTITY_REVOKED, agent.identity[0].state);
    TEST_ASSERT_EQUAL_INT(STAPLER_IS_ENABLED(CONFIG_STAPLER_STAPLE_REVOKED), serving());
    boot();
    TEST_ASSERT_EQUAL_INT(STAPLER_IDENTITY_REVOKED, agent.identity[0].state);
}

static void test_without_trusted_time_serve_until_provably_expired(void)
{
    stapler_identity_status_t status;

    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    const int64_t offered_at = wall;

    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));

    /* Reboot with no idea of the date (RTC at 0, untrusted). */
    wall = 0;
    wall_trusted = 0;
    monotonic = 0;
    boot();
    TEST_ASSERT_TRUE(serving());
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    TEST_ASSERT_FALSE(status.time_trusted);
    /* The floor: the trusted time of the staple write, kept in flash with it (without time
     * marks, the staple's producedAt). */
    TEST_ASSERT_EQUAL_INT64(CONFIG_STAPLER_TIME_MARK_SECTORS > 0 ? offered_at : status.produced_at, status.now);
    TEST_ASSERT_EQUAL_INT64(status.now, status.time_floor);
    /* Uptime alone proves expiry once the floor + uptime passes nextUpdate + skew. */
    monotonic += (uint64_t) (status.next_update - status.now + CONFIG_STAPLER_CLOCK_SKEW_S) * 1000u;
    TEST_ASSERT_TRUE(serving());
    monotonic += 1000;
    TEST_ASSERT_FALSE(serving());
}

static void test_a_staple_for_a_replaced_certificate_is_not_used(void)
{
    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    provision("leaf2-rsa.der", "ca-rsa.der"); /* same issuer, new certificate; cache kept */
    boot();
    TEST_ASSERT_FALSE(serving());
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_CERT_CHANGED, agent.identity[0].last_error);
}

static void test_a_certificate_without_ocsp_is_not_applicable(void)
{
    provision("ca-rsa.der", "ca-rsa.der"); /* no AIA, no override */
    boot();
    TEST_ASSERT_EQUAL_INT(STAPLER_IDENTITY_NOT_APPLICABLE, agent.identity[0].state);
    TEST_ASSERT_EQUAL_INT(0, agent.identity[0].last_error);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_NO_IDENTITY, offer("good-rsa-byname.der"));
}

static void test_corrupt_cache_is_ignored_and_reported(void)
{
    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    /* Damage the cached record's DER in flash. */
    memory[STAPLER_CREDENTIAL_AREA_SIZE + agent.identity[0].ring.latest_offset + 100] ^= 0x01;
    boot();
    TEST_ASSERT_FALSE(serving());
    TEST_ASSERT_EQUAL_INT(STAPLER_IDENTITY_NO_STAPLE, agent.identity[0].state);
}

static unsigned events[8];

static void on_event(void *context, unsigned identity, stapler_event_t event)
{
    (void) context;
    TEST_ASSERT_EQUAL_UINT(0, identity);
    events[event]++;
}

static void test_first_boot_fetches_soon_from_the_aia_url_with_openssls_request(void)
{
    unsigned char request[STAPLER_OCSP_REQUEST_MAX];
    char url[300];
    size_t request_len;
    unsigned identity = 99;
    uint32_t wait;

    provision("leaf-rsa.der", "ca-rsa.der");
    first_boot();
    TEST_ASSERT_EQUAL_INT(1, stapler_agent_poll(&agent, &identity, &wait));
    TEST_ASSERT_EQUAL_UINT(0, identity);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_fetch_target(&agent, 0, url, sizeof(url), request,
                                                        sizeof(request), &request_len));
    TEST_ASSERT_EQUAL_STRING("http://127.0.0.1:8888/ocsp", url);
    load(2, "req-rsa-sha256.der"); /* RFC 9919: SHA-256 CertIDs */
    TEST_ASSERT_EQUAL_size_t(der_len[2], request_len);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(der[2], request, request_len);
}

static void test_a_successful_fetch_schedules_the_next_in_the_refresh_band(void)
{
    stapler_identity_status_t status;
    unsigned identity;
    uint32_t wait = 0;

    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    memset(events, 0, sizeof(events));
    stapler_agent_set_event_handler(&agent, on_event, NULL);
    load(2, "good-rsa-byname.der");
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_fetch_done(&agent, 0, 0, der[2], der_len[2], 0));
    TEST_ASSERT_EQUAL_UINT(1, events[STAPLER_EVENT_RENEWED]);
    TEST_ASSERT_TRUE(serving());
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_poll(&agent, &identity, &wait));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    /* 7-day window, the first response held: from half a spread (0.7 days) on, for up to
     * the longest hold (3.5 days) more, where a device would be in its schedule at a random
     * moment (stapler/refresh.h). */
    TEST_ASSERT_TRUE(status.next_attempt_in <= (int64_t) 7 * 86400 *
                                                   (100 - CONFIG_STAPLER_REFRESH_PERCENT +
                                                    CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 2) / 100 + 2);
    TEST_ASSERT_TRUE(status.next_attempt_in >= (int64_t) 7 * 86400 * CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 200 - 2);
    /* poll() sleeps until then, never longer than a day, so the main loop looks again. */
    TEST_ASSERT_EQUAL_UINT32(status.next_attempt_in >= 86400 ? 86400u * 1000u : (uint32_t) status.next_attempt_in * 1000u,
                             wait);
    TEST_ASSERT_EQUAL_UINT32(1, status.fetches_ok);
}

static void test_a_failed_fetch_backs_off_and_moves_to_the_next_url(void)
{
    unsigned char request[STAPLER_OCSP_REQUEST_MAX];
    char url[300];
    size_t request_len;
    unsigned identity;
    uint32_t wait = 0;

    /* The provisioned override first, then the certificate's AIA URL. */
    provision_with_url("leaf-rsa.der", "ca-rsa.der", "http://127.0.0.1:9999/backup");
    boot();
    memset(events, 0, sizeof(events));
    stapler_agent_set_event_handler(&agent, on_event, NULL);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_UNSUCCESSFUL,
                          stapler_agent_fetch_done(&agent, 0, STAPLER_ERR_OCSP_UNSUCCESSFUL, NULL, 0, 0));
    TEST_ASSERT_EQUAL_UINT(1, events[STAPLER_EVENT_FAILED]);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_poll(&agent, &identity, &wait));
    TEST_ASSERT_GREATER_OR_EQUAL_UINT32(CONFIG_STAPLER_RETRY_MIN_S * 1000u, wait);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_fetch_target(&agent, 0, url, sizeof(url), request,
                                                        sizeof(request), &request_len));
    TEST_ASSERT_EQUAL_STRING("http://127.0.0.1:8888/ocsp", url);
    /* A refused response counts as a failure too, and rotates back to the override. */
    monotonic += (uint64_t) wait;
    load(2, "tampered-signature.der");
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_BAD_SIGNATURE, stapler_agent_fetch_done(&agent, 0, 0, der[2], der_len[2], 0));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_fetch_target(&agent, 0, url, sizeof(url), request,
                                                        sizeof(request), &request_len));
    TEST_ASSERT_EQUAL_STRING("http://127.0.0.1:9999/backup", url);
    TEST_ASSERT_EQUAL_UINT32(2, agent.identity[0].refresh.failures);
    /* Counted by class; attempts timed, no success yet. */
    TEST_ASSERT_EQUAL_UINT32(1, agent.identity[0].fetches_by_class[STAPLER_FETCH_RESPONDER_ERROR]);
    TEST_ASSERT_EQUAL_UINT32(1, agent.identity[0].fetches_by_class[STAPLER_FETCH_INVALID]);
    TEST_ASSERT_EQUAL_INT64(wall, agent.identity[0].last_attempt);
    TEST_ASSERT_EQUAL_INT64(0, agent.identity[0].last_success);
}

/* The override replaces a responder that moved: after every boot it is asked first, so the
 * device does not begin each boot by failing at the stale AIA URL and waiting out a retry. */
static void test_the_provisioned_url_is_asked_first_after_every_boot(void)
{
    unsigned char request[STAPLER_OCSP_REQUEST_MAX];
    char url[300];
    size_t request_len;
    unsigned identity = 99;
    uint32_t wait;
    int round;

    provision_with_url("leaf-rsa.der", "ca-rsa.der", "http://10.9.8.7:8080/moved");
    for (round = 0; round < 2; round++) {
        first_boot();
        TEST_ASSERT_EQUAL_INT(1, stapler_agent_poll(&agent, &identity, &wait));
        TEST_ASSERT_EQUAL_INT(0, stapler_agent_fetch_target(&agent, 0, url, sizeof(url), request,
                                                            sizeof(request), &request_len));
        TEST_ASSERT_EQUAL_STRING("http://10.9.8.7:8080/moved", url);
        /* It fails this time: the next attempt goes to the AIA URL, but a reboot starts over. */
        (void) stapler_agent_fetch_done(&agent, 0, STAPLER_PORT_ERR_TIMEOUT, NULL, 0, 0);
        TEST_ASSERT_EQUAL_INT(0, stapler_agent_fetch_target(&agent, 0, url, sizeof(url), request,
                                                            sizeof(request), &request_len));
        TEST_ASSERT_EQUAL_STRING("http://127.0.0.1:8888/ocsp", url);
    }
}

static void test_fetch_classes(void)
{
    TEST_ASSERT_EQUAL_INT(STAPLER_FETCH_ACCEPTED, stapler_agent_fetch_class(0));
    TEST_ASSERT_EQUAL_INT(STAPLER_FETCH_NOT_NEWER, stapler_agent_fetch_class(STAPLER_ERR_AGENT_NOT_NEWER));
    TEST_ASSERT_EQUAL_INT(STAPLER_FETCH_RESPONDER_ERROR, stapler_agent_fetch_class(STAPLER_ERR_OCSP_UNSUCCESSFUL));
    TEST_ASSERT_EQUAL_INT(STAPLER_FETCH_UNKNOWN_STATUS, stapler_agent_fetch_class(STAPLER_ERR_AGENT_STATUS_UNKNOWN));
    TEST_ASSERT_EQUAL_INT(STAPLER_FETCH_INVALID, stapler_agent_fetch_class(STAPLER_ERR_OCSP_BAD_SIGNATURE));
    TEST_ASSERT_EQUAL_INT(STAPLER_FETCH_INVALID, stapler_agent_fetch_class(STAPLER_ERR_OCSP_EXPIRED));
    TEST_ASSERT_EQUAL_INT(STAPLER_FETCH_TRANSPORT, stapler_agent_fetch_class(STAPLER_PORT_ERR_IO));
    TEST_ASSERT_EQUAL_INT(STAPLER_FETCH_OTHER, stapler_agent_fetch_class(STAPLER_ERR_NO_MEMORY));
    TEST_ASSERT_EQUAL_STRING("responder_error", stapler_agent_fetch_class_name(STAPLER_FETCH_RESPONDER_ERROR));
}

static void test_a_reboot_with_a_valid_cache_does_not_fetch_at_once(void)
{
    unsigned identity;
    uint32_t wait = 0;

    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    boot();
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_poll(&agent, &identity, &wait));
    TEST_ASSERT_GREATER_THAN_UINT32(86400u * 1000u / 2, wait); /* the healthy schedule, days away */
}


/* The refresh point is kept with the cached record (docs/SPEC.md, header offset 28): after a
 * reboot the next fetch is when it was going to be, to the second; a record without one (as
 * written before it was kept) is refreshed as if taken at its thisUpdate, never later. */
static void test_a_reboot_keeps_the_refresh_point(void)
{
    stapler_identity_status_t status;
    int64_t before, after, taken_after, gap;
    unsigned i;

    provision("leaf-rsa.der", "ca-rsa.der");
    wall += 6 * 3600; /* taken six hours after it was produced */
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    before = status.next_attempt_in;
    taken_after = status.now - status.this_update; /* six hours and a minute */
    /* Halfway there (at least 0.35 days: the point is drawn per device and response), the
     * power comes back. */
    TEST_ASSERT_TRUE(before > 7 * 86400 * CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 200 - 2);
    gap = before / 2;
    wall += gap;
    monotonic = 500;
    boot();
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    TEST_ASSERT_TRUE(status.serving);
    after = status.next_attempt_in;
    TEST_ASSERT_INT64_WITHIN(1, before - gap, after);
    /* The same record with the field erased, as an older Stapler wrote it. */
    for (i = STAPLER_CREDENTIAL_AREA_SIZE; i + 32 <= sizeof(memory); i += 32) {
        if (memcmp(memory + i, "STPL", 4) == 0) {
            memset(memory + i + 28, 0xFF, 4);
            break;
        }
    }
    TEST_ASSERT_TRUE(i + 32 <= sizeof(memory));
    boot();
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    TEST_ASSERT_TRUE(status.serving);
    /* As if taken at its thisUpdate (gap + six hours ago): 2.1 to 3.5 days after that. */
    TEST_ASSERT_TRUE(status.next_attempt_in >= (int64_t) 7 * 86400 *
                                                   (100 - CONFIG_STAPLER_REFRESH_PERCENT -
                                                    CONFIG_STAPLER_REFRESH_JITTER_PERCENT) / 100 - gap - taken_after - 1);
    TEST_ASSERT_TRUE(status.next_attempt_in <= (int64_t) 7 * 86400 * (100 - CONFIG_STAPLER_REFRESH_PERCENT) / 100 -
                                                   gap - taken_after + 1);
    TEST_ASSERT_TRUE(status.next_attempt_in != after);
}

/* ---- Fetching over a scripted transport (stapler_agent_step()) ---------------------- */

static struct {
    int connects;
    char host[64];
    uint16_t port;
    int status;
    char sent[2048];
    size_t sent_len;
    unsigned char inbound[8192];
    size_t inbound_len, inbound_pos;
    int refuse_get;                          /* answer a GET with 400, as Debian's cfssl does */
    int closed;
} net;

static int net_connect(void *c, const char *host, uint16_t p)
{
    (void) c;
    net.connects++;
    strncpy(net.host, host, sizeof(net.host) - 1);
    net.port = p;
    net.inbound_pos = 0;
    net.sent_len = 0;
    return 1;
}
static int net_status(void *c, int conn) { (void) c; (void) conn; return net.status; }
static int net_send(void *c, int conn, const void *data, size_t len)
{
    (void) c;
    (void) conn;
    TEST_ASSERT_LESS_OR_EQUAL_size_t(sizeof(net.sent) - net.sent_len, len);
    memcpy(net.sent + net.sent_len, data, len);
    net.sent_len += len;
    return (int) len;
}
static int net_recv(void *c, int conn, void *buffer, size_t len)
{
    static const char refusal[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    size_t n = net.inbound_len - net.inbound_pos;

    (void) c;
    (void) conn;
    if (net.refuse_get && strncmp(net.sent, "GET ", 4) == 0) {
        TEST_ASSERT_LESS_THAN_size_t(len, sizeof(refusal) - 1);
        memcpy(buffer, refusal, sizeof(refusal) - 1);
        net.sent[0] = '\0'; /* answered: the connection ends after it */
        return (int) sizeof(refusal) - 1;
    }
    if (n == 0) {
        return STAPLER_PORT_ERR_CLOSED;
    }
    n = n < len ? n : len;
    memcpy(buffer, net.inbound + net.inbound_pos, n);
    net.inbound_pos += n;
    return (int) n;
}
static void net_close(void *c, int conn) { (void) c; (void) conn; net.closed++; }

/* The responder answers with `head` and then, if given, the vector `body_name`. */
static void respond(const char *head, const char *body_name)
{
    size_t n = strlen(head);

    memset(&net, 0, sizeof(net));
    net.status = 1;
    memcpy(net.inbound, head, n);
    if (body_name != NULL) {
        load(2, body_name);
        memcpy(net.inbound + n, der[2], der_len[2]);
        n += der_len[2];
    }
    net.inbound_len = n;
    port.transport.connect = net_connect;
    port.transport.status = net_status;
    port.transport.send = net_send;
    port.transport.recv = net_recv;
    port.transport.close = net_close;
}

/* A responder that answers a GET with 400 and a POST with 200 and the vector `body_name`. */
static void respond_to_post_only(const char *body_name)
{
    char head[160];

    load(2, body_name);
    snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                                 "Content-Length: %u\r\n\r\n", (unsigned) der_len[2]);
    respond(head, body_name);
    net.refuse_get = 1;
}

/* Step the agent until a fetch ends (bounded). */
static void step_until_fetched(void)
{
    uint32_t wait;
    int i;

    for (i = 0; i < 50; i++) {
        if (stapler_agent_step(&agent, &wait) == 1) {
            return;
        }
        monotonic += wait;
    }
    TEST_FAIL_MESSAGE("no fetch ended");
}

static void test_step_fetches_over_the_transport_and_serves_the_response(void)
{
    stapler_identity_status_t st;
    char head[160];

    provision("leaf-rsa.der", "ca-rsa.der");
    load(2, "good-rsa-byname.der");
    snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                                 "Content-Length: %u\r\n\r\n", (unsigned) der_len[2]);
    respond(head, "good-rsa-byname.der");
    boot();
    TEST_ASSERT_FALSE(serving());
    step_until_fetched();
    TEST_ASSERT_EQUAL_STRING("127.0.0.1", net.host);
    TEST_ASSERT_EQUAL_UINT16(8888, net.port);
    TEST_ASSERT_EQUAL_STRING_LEN("GET /ocsp/", net.sent, 10);
    TEST_ASSERT_NOT_NULL(strstr(net.sent, "\r\nHost: 127.0.0.1:8888\r\n"));
    TEST_ASSERT_EQUAL_INT(1, net.closed);
    TEST_ASSERT_TRUE(serving());
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &st));
    TEST_ASSERT_EQUAL_UINT32(1, st.fetches_by_class[STAPLER_FETCH_ACCEPTED]);
    TEST_ASSERT_EQUAL_INT(200, st.last_http_status);
    TEST_ASSERT_EQUAL_INT(0, st.fetching);
    TEST_ASSERT_GREATER_THAN(3600, st.next_attempt_in); /* half of the vectors' window */
}

static void test_step_honours_retry_after_and_counts_the_class(void)
{
    stapler_identity_status_t st;

    provision("leaf-rsa.der", "ca-rsa.der");
    respond("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7000\r\nContent-Length: 0\r\n\r\n", NULL);
    boot();
    step_until_fetched();
    TEST_ASSERT_FALSE(serving());
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &st));
    TEST_ASSERT_EQUAL_UINT32(1, st.fetches_by_class[STAPLER_FETCH_HTTP_5XX]);
    TEST_ASSERT_EQUAL_INT(503, st.last_http_status);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_SERVER_ERROR, st.last_error);
    TEST_ASSERT_EQUAL_UINT32(1, st.consecutive_failures);
    TEST_ASSERT_GREATER_OR_EQUAL(6999, st.next_attempt_in);
    TEST_ASSERT_LESS_OR_EQUAL(7000, st.next_attempt_in);

    /* A 200 with an HTML page: its own class, nothing served. */
    respond("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>login</html>", NULL);
    monotonic += 7000u * 1000u;
    step_until_fetched();
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &st));
    TEST_ASSERT_EQUAL_UINT32(1, st.fetches_by_class[STAPLER_FETCH_CONTENT_TYPE]);
    TEST_ASSERT_EQUAL_UINT32(2, st.consecutive_failures);
    TEST_ASSERT_FALSE(st.serving);
}

/* Debian's cfssl answers every GET with 400: the fetch asks again by POST, and the agent
 * remembers (until reboot) that this responder wants POST. */
static void test_a_responder_that_refused_get_is_asked_by_post_from_then_on(void)
{
    stapler_identity_status_t st;

    provision("leaf-rsa.der", "ca-rsa.der");
    respond_to_post_only("good-rsa-byname.der");
    boot();
    step_until_fetched();
    TEST_ASSERT_EQUAL_INT(0, agent.fetch_result);
    TEST_ASSERT_TRUE(serving());
    TEST_ASSERT_EQUAL_INT(2, net.connects);                 /* GET, then POST, in one fetch */
    TEST_ASSERT_EQUAL_STRING_LEN("POST /ocsp HTTP/1.1\r\n", net.sent, 21);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &st));
    TEST_ASSERT_EQUAL_UINT32(1, st.fetches_ok);
    TEST_ASSERT_EQUAL_UINT32(0, st.fetches_failed);
    TEST_ASSERT_EQUAL_INT(200, st.last_http_status);
    TEST_ASSERT_EQUAL_INT(1, st.last_fetch_post);
    TEST_ASSERT_EQUAL_INT(1, st.last_get_refused);

    /* The refresh, four days on: POST straight away (GET would be refused again). */
    respond_to_post_only("good-rsa-later.der");
    wall += 4 * 86400;
    monotonic += 4ull * 86400u * 1000u;
    step_until_fetched();
    TEST_ASSERT_EQUAL_INT(1, net.connects);
    TEST_ASSERT_EQUAL_STRING_LEN("POST /ocsp HTTP/1.1\r\n", net.sent, 21);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &st));
    TEST_ASSERT_EQUAL_INT(1, st.last_fetch_post);
    TEST_ASSERT_EQUAL_INT(0, st.last_get_refused);
    TEST_ASSERT_EQUAL_UINT32(2, st.fetches_ok);

    /* Remembered in RAM only: after a reboot the responder gets its GET again. */
    boot();
    respond_to_post_only("good-rsa-later.der");
    wall += 4 * 86400;
    monotonic += 4ull * 86400u * 1000u;
    step_until_fetched();
    TEST_ASSERT_EQUAL_INT(2, net.connects);
}

static void test_without_a_transport_step_only_schedules(void)
{
    uint32_t wait = 0;

    provision("leaf-rsa.der", "ca-rsa.der");
    first_boot();
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_step(&agent, &wait));
    TEST_ASSERT_EQUAL_UINT32(1000, wait); /* a fetch is due; nobody to do it */
    TEST_ASSERT_EQUAL_INT(0, agent.identity[0].fetches_failed);
}

static void test_a_held_staple_does_not_change_until_released(void)
{
    const unsigned char *p, *q, *r;
    size_t n, m, k;
    unsigned char before[8192];

    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_NO_STAPLE, stapler_agent_staple_hold(&agent, 0, &p, &n));
    TEST_ASSERT_EQUAL_UINT(0, agent.identity[0].holds);
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_staple_hold(&agent, 0, &p, &n));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_staple_hold(&agent, 0, &q, &m)); /* a second handshake */
    TEST_ASSERT_EQUAL_PTR(p, q);
    memcpy(before, p, n);
    /* A newer response arrives while two handshakes send the staple: it goes into the other
     * buffer, and is what the next handshake gets; theirs do not move. */
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-later.der"));
    TEST_ASSERT_EQUAL_HEX8_ARRAY(before, p, n);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_staple_hold(&agent, 0, &r, &k));
    TEST_ASSERT_TRUE(r != p);
    TEST_ASSERT_EQUAL_size_t(der_len[2], k);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(der[2], r, k);
    TEST_ASSERT_EQUAL_UINT(3, agent.identity[0].holds);
    /* Another response would go into the buffer the first two still send: it must wait. */
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_BUSY, offer("good-rsa-later.der"));
    stapler_agent_staple_release(&agent, 0, p);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_BUSY, offer("good-rsa-later.der"));
    TEST_ASSERT_EQUAL_HEX8_ARRAY(before, q, m);
    stapler_agent_staple_release(&agent, 0, q);
    stapler_agent_staple_release(&agent, 0, q);      /* one too many: harmless */
    stapler_agent_staple_release(&agent, 0, before); /* not the agent's: ignored */
    TEST_ASSERT_EQUAL_UINT(1, agent.identity[0].holds);
    /* The oldest buffer is free again: the offer is judged (and is not newer). */
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_NOT_NEWER, offer("good-rsa-later.der"));
    TEST_ASSERT_EQUAL_HEX8_ARRAY(der[2], r, k);
    stapler_agent_staple_release(&agent, 0, r);
    TEST_ASSERT_EQUAL_UINT(0, agent.identity[0].holds);
}

static void test_handshake_outcomes_are_counted_by_reason(void)
{
    stapler_identity_status_t st;

    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    stapler_agent_handshake_done(&agent, 0, STAPLER_HANDSHAKE_STAPLED);
    stapler_agent_handshake_done(&agent, 0, STAPLER_HANDSHAKE_TOO_LARGE);
    stapler_agent_handshake_done(&agent, 0, STAPLER_HANDSHAKE_NOT_REQUESTED);
    stapler_agent_handshake_done(&agent, 0, STAPLER_HANDSHAKE_NOT_REQUESTED);
    stapler_agent_handshake_done(&agent, 0, STAPLER_HANDSHAKE_OUTCOMES); /* ignored */
    stapler_agent_handshake_done(&agent, 5, STAPLER_HANDSHAKE_STAPLED);  /* ignored */
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &st));
    TEST_ASSERT_EQUAL_UINT32(1, st.handshakes_by_outcome[STAPLER_HANDSHAKE_STAPLED]);
    TEST_ASSERT_EQUAL_UINT32(1, st.handshakes_by_outcome[STAPLER_HANDSHAKE_TOO_LARGE]);
    TEST_ASSERT_EQUAL_UINT32(2, st.handshakes_by_outcome[STAPLER_HANDSHAKE_NOT_REQUESTED]);
    TEST_ASSERT_EQUAL_UINT32(1, st.handshakes_stapled);
    TEST_ASSERT_EQUAL_UINT32(3, st.handshakes_unstapled);
    TEST_ASSERT_EQUAL_STRING("too_large", stapler_agent_handshake_outcome_name(STAPLER_HANDSHAKE_TOO_LARGE));
    TEST_ASSERT_EQUAL_INT(0, st.must_staple);
}

static void test_must_staple_is_known_from_the_certificate(void)
{
    stapler_identity_status_t st;

    provision("leaf-muststaple.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &st));
    TEST_ASSERT_EQUAL_INT(1, st.must_staple);
}

static void test_a_fetch_ending_during_handshakes_is_served_next_or_waits(void)
{
    const unsigned char *p, *r;
    size_t n, k;
    unsigned char before[8192];
    char head[160];
    uint32_t wait;
    int i, ended = 0;

    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    load(2, "good-rsa-later.der");
    snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                                 "Content-Length: %u\r\n\r\n", (unsigned) der_len[2]);
    respond(head, "good-rsa-later.der");
    /* Four days on: the refresh (at half of the 7-day window) is due. */
    wall += 4 * 86400;
    monotonic += 4ull * 86400u * 1000u;
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_staple_hold(&agent, 0, &p, &n));
    memcpy(before, p, n);
    /* One handshake holds the staple: the fetched response goes into the other buffer. */
    for (i = 0; i < 50 && !ended; i++) {
        ended = stapler_agent_step(&agent, &wait) == 1;
        monotonic += wait;
    }
    TEST_ASSERT_TRUE(ended);
    TEST_ASSERT_EQUAL_INT(0, agent.fetch_result);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(before, p, n); /* the handshake's bytes never moved */
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_staple_hold(&agent, 0, &r, &k));
    TEST_ASSERT_EQUAL_HEX8_ARRAY(der[2], r, k);
    /* Both buffers held (the old staple and the new): the next fetched response waits in the
     * exchange until the handshake holding the oldest bytes is over. */
    respond(head, "good-rsa-later.der");
    wall += 3600;
    monotonic += 3600u * 1000u;
    ended = 0;
    for (i = 0; i < 50; i++) {
        ended |= stapler_agent_step(&agent, &wait) == 1;
        monotonic += wait;
    }
    TEST_ASSERT_FALSE(ended);
    TEST_ASSERT_EQUAL_INT(1, agent.fetch_parked);
    TEST_ASSERT_EQUAL_INT(1, net.closed);        /* the connection is done with */
    TEST_ASSERT_EQUAL_HEX8_ARRAY(before, p, n);
    stapler_agent_staple_release(&agent, 0, p);
    TEST_ASSERT_EQUAL_INT(1, stapler_agent_step(&agent, &wait));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_AGENT_NOT_NEWER, agent.fetch_result); /* judged now */
    TEST_ASSERT_EQUAL_INT(0, agent.fetch_parked);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(der[2], r, k);
    stapler_agent_staple_release(&agent, 0, r);
    TEST_ASSERT_EQUAL_UINT(0, agent.identity[0].holds);
}

/* ---- CertID hash (RFC 9919) and issuers Mbed TLS refuses (issue 14) -------------------- */

/* The request the agent would send now, compared with an openssl vector. */
static void assert_next_request(const char *vector)
{
    unsigned char request[STAPLER_OCSP_REQUEST_MAX];
    char url[300];
    size_t request_len;

    TEST_ASSERT_EQUAL_INT(0, stapler_agent_fetch_target(&agent, 0, url, sizeof(url), request, sizeof(request),
                                                        &request_len));
    TEST_ASSERT_EQUAL_STRING("http://127.0.0.1:8888/ocsp", url);
    load(2, vector);
    TEST_ASSERT_EQUAL_size_t_MESSAGE(der_len[2], request_len, vector);
    TEST_ASSERT_EQUAL_HEX8_ARRAY_MESSAGE(der[2], request, request_len, vector);
}

static int fetch_answered(const char *vector)
{
    load(2, vector);
    return stapler_agent_fetch_done(&agent, 0, 0, der[2], der_len[2], 0);
}

/* A responder that knows only SHA-1 CertIDs answers unauthorized: asked again at once with
 * SHA-1, not counted as a failure, and SHA-1 is kept until the next boot. */
static void test_a_refused_sha256_certid_is_asked_again_with_sha1_and_kept_until_reboot(void)
{
    stapler_identity_status_t st;
    unsigned identity = 99;
    uint32_t wait = 0;

    provision("leaf-rsa.der", "ca-rsa.der");
    first_boot();
    memset(events, 0, sizeof(events));
    stapler_agent_set_event_handler(&agent, on_event, NULL);
    assert_next_request("req-rsa-sha256.der");
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_UNSUCCESSFUL, fetch_answered("status-unauthorized.der"));
    TEST_ASSERT_EQUAL_UINT(0, events[STAPLER_EVENT_FAILED]);
    TEST_ASSERT_EQUAL_UINT32(0, agent.identity[0].refresh.failures);
    TEST_ASSERT_EQUAL_INT(1, stapler_agent_poll(&agent, &identity, &wait)); /* due at once */
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &st));
    TEST_ASSERT_EQUAL_INT(1, st.certid_sha1);
    assert_next_request("req-rsa.der"); /* same URL, SHA-1 */
    TEST_ASSERT_EQUAL_INT(0, fetch_answered("good-rsa-byname.der"));
    TEST_ASSERT_TRUE(serving());
    TEST_ASSERT_EQUAL_UINT32(1, agent.identity[0].fetches_ok);
    TEST_ASSERT_EQUAL_UINT32(0, agent.identity[0].fetches_failed);
    /* Remembered: the next refresh asks with SHA-1 straight away ... */
    assert_next_request("req-rsa.der");
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_UNSUCCESSFUL, fetch_answered("status-try-later.der"));
    assert_next_request("req-rsa.der");
    /* ... until the next boot (RAM only), which starts from SHA-256 again. */
    boot();
    assert_next_request("req-rsa-sha256.der");
}

/* malformedRequest counts as a refusal too; SHA-1 refused as well means the hash was not the
 * reason: a normal failure, and the next fetch starts from SHA-256. */
static void test_a_refusal_of_sha1_too_is_a_failure_and_sha256_is_tried_next(void)
{
    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    memset(events, 0, sizeof(events));
    stapler_agent_set_event_handler(&agent, on_event, NULL);
    assert_next_request("req-rsa-sha256.der");
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_UNSUCCESSFUL, fetch_answered("status-malformed-request.der"));
    TEST_ASSERT_EQUAL_UINT(0, events[STAPLER_EVENT_FAILED]);
    assert_next_request("req-rsa.der");
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_UNSUCCESSFUL, fetch_answered("status-malformed-request.der"));
    TEST_ASSERT_EQUAL_UINT(1, events[STAPLER_EVENT_FAILED]);
    TEST_ASSERT_EQUAL_UINT32(1, agent.identity[0].refresh.failures);
    TEST_ASSERT_EQUAL_UINT32(1, agent.identity[0].fetches_by_class[STAPLER_FETCH_RESPONDER_ERROR]);
    assert_next_request("req-rsa-sha256.der");
    /* tryLater says nothing about the hash: no second request, a failure. */
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_UNSUCCESSFUL, fetch_answered("status-try-later.der"));
    TEST_ASSERT_EQUAL_UINT(2, events[STAPLER_EVENT_FAILED]);
    assert_next_request("req-rsa-sha256.der");
}

/* Over the transport: the second request is part of the same fetch (one fetch ends, and is
 * reported), and goes out at once, with no backoff in between. */
static void test_step_asks_again_with_sha1_within_the_same_fetch(void)
{
    char head[160];
    int ended = 0, i;
    uint32_t wait = 0;
    uint64_t started;

    provision("leaf-rsa.der", "ca-rsa.der");
    load(2, "status-unauthorized.der");
    snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                                 "Content-Length: %u\r\n\r\n", (unsigned) der_len[2]);
    respond(head, "status-unauthorized.der");
    first_boot();
    started = monotonic; /* from the first fetch on */
    for (i = 0; i < 100 && !ended; i++) {
        ended = stapler_agent_step(&agent, &wait) == 1;
        if (!ended) {
            TEST_ASSERT_LESS_OR_EQUAL_UINT32(100, wait); /* never a backoff in between */
            monotonic += wait;
        }
    }
    TEST_ASSERT_EQUAL_INT(1, ended);
    TEST_ASSERT_EQUAL_INT(2, net.connects);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_OCSP_UNSUCCESSFUL, agent.fetch_result);
    TEST_ASSERT_EQUAL_UINT32(1, agent.identity[0].fetches_failed);
    TEST_ASSERT_LESS_THAN_UINT64(5000, monotonic - started);
    /* Both refused: one failure counted, and the next attempt waits. */
    TEST_ASSERT_EQUAL_UINT32(1, agent.identity[0].refresh.failures);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_step(&agent, &wait));
    TEST_ASSERT_GREATER_OR_EQUAL_UINT32(CONFIG_STAPLER_RETRY_MIN_S * 1000u / 2, wait);
}

/* The issuer in flash is a legacy root self-signed with md5WithRSA (Mbed TLS is built without
 * MD5): the identity still boots, and its responses verify against the root's name and key. */
static void test_an_issuer_refused_by_mbed_tls_for_its_own_signature_is_used(void)
{
    provision("leaf-md5.der", "ca-md5.der");
    boot();
    TEST_ASSERT_EQUAL_INT(STAPLER_IDENTITY_NO_STAPLE, agent.identity[0].state);
    TEST_ASSERT_EQUAL_INT(0, agent.identity[0].last_error);
    TEST_ASSERT_EQUAL_INT(0, offer("good-md5-byname.der"));
    TEST_ASSERT_TRUE(serving());
    /* And after a reboot, from the cache. */
    boot();
    TEST_ASSERT_TRUE(serving());
}


/* Time the agent can defend (docs/SECURITY.md, time). */
static unsigned time_events;
static void count_time_events(void *context, unsigned identity, stapler_event_t event)
{
    (void) context;
    (void) identity;
    if (event == STAPLER_EVENT_TIME_CONTRADICTION) {
        time_events++;
    }
}

static void test_a_trusted_clock_pushed_back_is_a_contradiction_and_not_used(void)
{
    stapler_identity_status_t status;
    const int64_t offered_at = wall;
    int64_t now;
    uint32_t wait;
    int trusted;

    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    time_events = 0;
    stapler_agent_set_event_handler(&agent, count_time_events, NULL);
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    /* An SNTP answer a month back: the agent stays at what it knows. */
    wall = offered_at - 30 * 86400;
    now = stapler_agent_now(&agent, &trusted);
    TEST_ASSERT_EQUAL_INT64(offered_at, now);
    TEST_ASSERT_FALSE(trusted);
    (void) stapler_agent_now(&agent, &trusted);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    TEST_ASSERT_EQUAL_UINT32(1, status.time_contradictions); /* one run, however often read */
    TEST_ASSERT_EQUAL_INT64(offered_at, status.time_floor);
    TEST_ASSERT_FALSE(status.time_trusted);
    TEST_ASSERT_TRUE(serving());
    TEST_ASSERT_EQUAL_UINT(0, time_events);
    (void) stapler_agent_step(&agent, &wait); /* raised in the agent thread */
    TEST_ASSERT_EQUAL_UINT(1, time_events);
    (void) stapler_agent_step(&agent, &wait);
    TEST_ASSERT_EQUAL_UINT(1, time_events);
    /* Within the skew below the floor: the clock (a responder's producedAt may run ahead). */
    wall = offered_at - CONFIG_STAPLER_CLOCK_SKEW_S;
    now = stapler_agent_now(&agent, &trusted);
    TEST_ASSERT_TRUE(trusted);
    TEST_ASSERT_EQUAL_INT64(offered_at, now);
    /* Right again, then pushed back again: a second run. */
    wall = offered_at + 10;
    TEST_ASSERT_EQUAL_INT64(offered_at + 10, stapler_agent_now(&agent, &trusted));
    TEST_ASSERT_TRUE(trusted);
    wall = offered_at - 3600;
    (void) stapler_agent_now(&agent, &trusted);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    TEST_ASSERT_EQUAL_UINT32(2, status.time_contradictions);
    /* The trusted time it took counts: offered_at + 10, and monotonic time since. */
    monotonic += 5000;
    TEST_ASSERT_EQUAL_INT64(offered_at + 15, stapler_agent_now(&agent, &trusted));
}

static void test_the_floor_survives_a_reboot_in_the_time_marks(void)
{
    stapler_identity_status_t status;
    const int64_t offered_at = wall;
    uint32_t wait;
    int trusted;

    if (CONFIG_STAPLER_TIME_MARK_SECTORS == 0) {
        TEST_PASS_MESSAGE("built without time marks");
    }
    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    (void) stapler_agent_step(&agent, &wait);
    /* Two hours on, trusted: the interval mark. */
    monotonic += 7200u * 1000u;
    wall += 7200;
    (void) stapler_agent_step(&agent, &wait);
    TEST_ASSERT_TRUE(wait <= (uint32_t) CONFIG_STAPLER_TIME_MARK_INTERVAL_S * 1000u);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    TEST_ASSERT_EQUAL_INT64(offered_at + 7200, status.time_mark);
    /* Reboot, and an attacker's SNTP answer a year back. */
    monotonic = 0;
    wall = offered_at - 365 * 86400;
    boot();
    TEST_ASSERT_EQUAL_INT64(offered_at + 7200, stapler_agent_now(&agent, &trusted));
    TEST_ASSERT_FALSE(trusted);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    TEST_ASSERT_TRUE(status.time_contradictions >= 1);
    TEST_ASSERT_EQUAL_INT(0, status.time_marks_error);
}

static void test_a_clock_pushed_forward_leaves_at_most_the_lead(void)
{
    stapler_identity_status_t status;
    int64_t produced_at;
    int trusted;

    provision("leaf-rsa.der", "ca-rsa.der");
    boot();
    TEST_ASSERT_EQUAL_INT(0, offer("good-rsa-byname.der"));
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    produced_at = status.produced_at;
    /* Thirty days ahead, trusted: used while the clock says so... */
    wall += 30 * 86400;
    TEST_ASSERT_EQUAL_INT64(wall, stapler_agent_now(&agent, &trusted));
    TEST_ASSERT_TRUE(trusted);
    /* ... but what stays of it is the lead over the signed evidence (producedAt). */
    wall -= 30 * 86400;
    (void) stapler_agent_now(&agent, &trusted);
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_status(&agent, 0, &status));
    TEST_ASSERT_EQUAL_INT64(produced_at + CONFIG_STAPLER_TIME_LEAD_S, status.time_floor);
    TEST_ASSERT_EQUAL_INT(wall + CONFIG_STAPLER_CLOCK_SKEW_S < produced_at + CONFIG_STAPLER_TIME_LEAD_S, !trusted);
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_unprovisioned_device_says_so);
    RUN_TEST(test_first_boot_has_no_staple_then_a_verified_offer_is_served);
    RUN_TEST(test_handshakes_are_counted_stapled_or_not_and_status_does_not_count);
    RUN_TEST(test_after_reboot_the_cached_staple_is_served_before_any_network);
    RUN_TEST(test_an_expired_cached_staple_is_not_served);
    RUN_TEST(test_no_rollback_only_strictly_newer_replaces);
    RUN_TEST(test_newer_replaces_and_persists);
    RUN_TEST(test_bad_responses_keep_the_last_good_one);
    RUN_TEST(test_unknown_keeps_the_last_good_one);
    RUN_TEST(test_revoked_stops_serving_at_once_and_after_reboot);
    RUN_TEST(test_without_trusted_time_serve_until_provably_expired);
    RUN_TEST(test_a_staple_for_a_replaced_certificate_is_not_used);
    RUN_TEST(test_a_certificate_without_ocsp_is_not_applicable);
    RUN_TEST(test_corrupt_cache_is_ignored_and_reported);
    RUN_TEST(test_first_boot_fetches_soon_from_the_aia_url_with_openssls_request);
    RUN_TEST(test_a_successful_fetch_schedules_the_next_in_the_refresh_band);
    RUN_TEST(test_a_failed_fetch_backs_off_and_moves_to_the_next_url);
    RUN_TEST(test_a_reboot_with_a_valid_cache_does_not_fetch_at_once);
    RUN_TEST(test_a_reboot_keeps_the_refresh_point);
    RUN_TEST(test_the_provisioned_url_is_asked_first_after_every_boot);
    RUN_TEST(test_fetch_classes);
    RUN_TEST(test_step_fetches_over_the_transport_and_serves_the_response);
    RUN_TEST(test_step_honours_retry_after_and_counts_the_class);
    RUN_TEST(test_a_responder_that_refused_get_is_asked_by_post_from_then_on);
    RUN_TEST(test_without_a_transport_step_only_schedules);
    RUN_TEST(test_a_held_staple_does_not_change_until_released);
    RUN_TEST(test_handshake_outcomes_are_counted_by_reason);
    RUN_TEST(test_must_staple_is_known_from_the_certificate);
    RUN_TEST(test_a_fetch_ending_during_handshakes_is_served_next_or_waits);
    RUN_TEST(test_a_refused_sha256_certid_is_asked_again_with_sha1_and_kept_until_reboot);
    RUN_TEST(test_a_refusal_of_sha1_too_is_a_failure_and_sha256_is_tried_next);
    RUN_TEST(test_step_asks_again_with_sha1_within_the_same_fetch);
    RUN_TEST(test_an_issuer_refused_by_mbed_tls_for_its_own_signature_is_used);
    RUN_TEST(test_a_trusted_clock_pushed_back_is_a_contradiction_and_not_used);
    RUN_TEST(test_the_floor_survives_a_reboot_in_the_time_marks);
    RUN_TEST(test_a_clock_pushed_forward_leaves_at_most_the_lead);
    return UNITY_END();
}
