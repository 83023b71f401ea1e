/*
 * Static RAM of Stapler's structures with this board's configuration, measured rather than
 * estimated: each array below has the size of one structure, and `cmake --build --preset
 * mps2-an386 --target ram-report` reads the sizes back with nm. Not linked into the image.
 */
#include "stapler/agent.h"

unsigned char stapler_ram_agent[sizeof(stapler_agent_t)];
unsigned char stapler_ram_identity[sizeof(stapler_identity_t)];
unsigned char stapler_ram_staple_buffer[STAPLER_RESPONSE_MAX];
unsigned char stapler_ram_ring[sizeof(stapler_ring_t)];
unsigned char stapler_ram_credentials[sizeof(stapler_credentials_t)];
unsigned char stapler_ram_x509_crt[sizeof(mbedtls_x509_crt)];
unsigned char stapler_ram_mbedtls_arena[CONFIG_STAPLER_MBEDTLS_ARENA_SIZE];
unsigned char stapler_ram_http_exchange[sizeof(stapler_http_exchange_t)];
