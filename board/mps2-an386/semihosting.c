/* ARM semihosting for mps2-an386 under QEMU (EMULATOR ONLY): see semihosting.h. */
#include "semihosting.h"

#include <string.h>

#define SYS_OPEN 0x01u
#define SYS_CLOSE 0x02u
#define SYS_WRITE 0x05u
#define SYS_READ 0x06u
#define SYS_SEEK 0x0Au
#define SYS_FLEN 0x0Cu
#define SYS_TIME 0x11u
#define SYS_GET_CMDLINE 0x15u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uint32_t stapler_semihosting_call(uint32_t operation, const void *parameter)
{
    register uint32_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = parameter;

    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int stapler_semihosting_open(const char *path, uint32_t mode)
{
    const uint32_t args[3] = { (uint32_t) (uintptr_t) path, mode, (uint32_t) strlen(path) };
    const uint32_t handle = stapler_semihosting_call(SYS_OPEN, args);

    return handle == 0xFFFFFFFFu ? -1 : (int) handle;
}

void stapler_semihosting_close(int handle)
{
    const uint32_t args[1] = { (uint32_t) handle };

    (void) stapler_semihosting_call(SYS_CLOSE, args);
}

int stapler_semihosting_read(int handle, void *buffer, size_t len)
{
    const uint32_t args[3] = { (uint32_t) handle, (uint32_t) (uintptr_t) buffer, (uint32_t) len };

    /* SYS_READ returns the number of bytes NOT read. */
    return stapler_semihosting_call(SYS_READ, args) == 0u ? 0 : -1;
}

int stapler_semihosting_write_at(int handle, uint32_t position, const void *data, size_t len)
{
    const uint32_t seek[2] = { (uint32_t) handle, position };
    const uint32_t write[3] = { (uint32_t) handle, (uint32_t) (uintptr_t) data, (uint32_t) len };

    if (stapler_semihosting_call(SYS_SEEK, seek) != 0u) {
        return -1;
    }
    /* SYS_WRITE returns the number of bytes NOT written. */
    return stapler_semihosting_call(SYS_WRITE, write) == 0u ? 0 : -1;
}

long stapler_semihosting_length(int handle)
{
    const uint32_t args[1] = { (uint32_t) handle };

    return (long) (int32_t) stapler_semihosting_call(SYS_FLEN, args);
}

int64_t stapler_semihosting_time(void)
{
    return (int64_t) stapler_semihosting_call(SYS_TIME, NULL);
}

int stapler_semihosting_cmdline(char *buffer, size_t size)
{
    uint32_t args[2] = { (uint32_t) (uintptr_t) buffer, (uint32_t) size };

    if (size == 0u || stapler_semihosting_call(SYS_GET_CMDLINE, args) != 0u || args[1] >= size) {
        return -1;
    }
    buffer[args[1]] = '\0';
    return 0;
}

void stapler_semihosting_exit(int code)
{
    const uint32_t args[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint32_t) code };

    (void) stapler_semihosting_call(SYS_EXIT_EXTENDED, args);
    for (;;) {
        __asm volatile("wfi");
    }
}
