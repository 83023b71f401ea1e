/* NOR flash emulation with fault injection: see stapler_flash_sim.h. */
#define _POSIX_C_SOURCE 200809L

#include "stapler_flash_sim.h"

#include "stapler/config.h"

#include <stdio.h>
#include <string.h>

static int stapler_flash_sim_in_range(const stapler_flash_sim_t *sim, uint32_t offset, size_t len)
{
    return offset <= sim->flash.size && len <= sim->flash.size - offset;
}

/* Count an operation; if it is the one to interrupt, return 1. */
static int stapler_flash_sim_cut_now(stapler_flash_sim_t *sim)
{
    sim->operations++;
    return sim->cut_at != 0 && sim->operations == sim->cut_at;
}

static int stapler_flash_sim_read(void *context, uint32_t offset, void *buffer, size_t len)
{
    stapler_flash_sim_t *sim = context;

    if (!stapler_flash_sim_in_range(sim, offset, len)) {
        return STAPLER_PORT_ERR_RANGE;
    }
    memcpy(buffer, sim->memory + offset, len);
    return 0;
}

static int stapler_flash_sim_program(void *context, uint32_t offset, const void *data, size_t len)
{
    stapler_flash_sim_t *sim = context;
    const unsigned char *bytes = data;
    size_t i, n = len;
    int cut;

    if (!stapler_flash_sim_in_range(sim, offset, len) || offset % sim->flash.program_size != 0 ||
        len % sim->flash.program_size != 0) {
        return STAPLER_PORT_ERR_RANGE;
    }
    cut = stapler_flash_sim_cut_now(sim);
    if (sim->fail_program_at != 0 && sim->operations == sim->fail_program_at) {
        return 0; /* a worn cell: reports success, changes nothing */
    }
    if (cut) {
        n = sim->torn ? len / 2 : 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char *cell = sim->memory + offset + i;

        if ((*cell & bytes[i]) != bytes[i]) {
            sim->nor_violations++;
        }
        *cell &= bytes[i];
    }
    if (cut) {
        longjmp(*sim->power_cut, 1);
    }
    return 0;
}

static int stapler_flash_sim_erase(void *context, uint32_t offset)
{
    stapler_flash_sim_t *sim = context;
    uint32_t sector = sim->flash.sector_size;
    int cut;

    if (offset % sector != 0 || !stapler_flash_sim_in_range(sim, offset, sector)) {
        return STAPLER_PORT_ERR_RANGE;
    }
    cut = stapler_flash_sim_cut_now(sim);
    memset(sim->memory + offset, 0xFF, cut ? (sim->torn ? sector / 2 : 0) : sector);
    if (sim->erase_counts != NULL) {
        sim->erase_counts[offset / sector]++;
    }
    if (cut) {
        longjmp(*sim->power_cut, 1);
    }
    return 0;
}

void stapler_flash_sim_init(stapler_flash_sim_t *sim, unsigned char *memory, uint32_t size,
                            uint32_t sector_size, uint32_t program_size, uint32_t *erase_counts)
{
    memset(sim, 0, sizeof(*sim));
    sim->memory = memory;
    sim->erase_counts = erase_counts;
    sim->flash.size = size;
    sim->flash.sector_size = sector_size;
    sim->flash.program_size = program_size;
    sim->flash.read = stapler_flash_sim_read;
    sim->flash.program = stapler_flash_sim_program;
    sim->flash.erase = stapler_flash_sim_erase;
    memset(memory, 0xFF, size);
    if (erase_counts != NULL) {
        memset(erase_counts, 0, sizeof(uint32_t) * (size / sector_size));
    }
}

int stapler_flash_sim_load(stapler_flash_sim_t *sim, const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    int extra;

    if (f == NULL) {
        return -1;
    }
    n = fread(sim->memory, 1, sim->flash.size, f);
    extra = fgetc(f) != EOF;
    fclose(f);
    if (!extra && STAPLER_TIME_MARK_AREA_SIZE > 0 && sim->flash.size == STAPLER_FLASH_REGION_SIZE &&
        n == sim->flash.size - STAPLER_TIME_MARK_AREA_SIZE) {
        /* An image from before the time marks (docs/SPEC.md): the area after the rings
         * reads erased, and the next save writes the whole region. */
        memset(sim->memory + n, 0xFF, STAPLER_TIME_MARK_AREA_SIZE);
        return 0;
    }
    return n == sim->flash.size && !extra ? 0 : -1;
}

int stapler_flash_sim_save(const stapler_flash_sim_t *sim, const char *path)
{
    char temporary[4096];
    FILE *f;

    snprintf(temporary, sizeof(temporary), "%s.tmp", path);
    f = fopen(temporary, "wb");
    if (f == NULL) {
        return -1;
    }
    if (fwrite(sim->memory, 1, sim->flash.size, f) != sim->flash.size || fclose(f) != 0) {
        remove(temporary);
        return -1;
    }
    return rename(temporary, path);
}
