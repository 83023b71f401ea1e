/*
 * Reset and exception vectors for the Cortex-M4F on mps2-an386. The reset handler copies
 * .data from its load image, zeroes .bss, enables the FPU and calls main(); there is no C
 * library start-up code and no heap.
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "lan9118.h"

extern uint32_t stapler_data_start, stapler_data_end, stapler_data_load;
extern uint32_t stapler_bss_start, stapler_bss_end;
extern uint32_t stapler_stack_top;

int main(void);
void stapler_board_reset(void);
void stapler_board_fault(void);
void stapler_board_systick(void);

#define SCB_CPACR (*(volatile uint32_t *) 0xE000ED88u)
#define SCB_VTOR (*(volatile uint32_t *) 0xE000ED08u)

void stapler_board_reset(void)
{
    memcpy(&stapler_data_start, &stapler_data_load,
           (size_t) ((uintptr_t) &stapler_data_end - (uintptr_t) &stapler_data_start));
    memset(&stapler_bss_start, 0,
           (size_t) ((uintptr_t) &stapler_bss_end - (uintptr_t) &stapler_bss_start));
    /* CP10/CP11 full access before the first floating-point instruction. */
    SCB_CPACR |= (0xFu << 20);
    __asm volatile("dsb\n\tisb");
    stapler_board_exit(main());
}

void stapler_board_fault(void)
{
    stapler_board_puts("\r\nfatal: CPU fault (HardFault/MemManage/BusFault/UsageFault)\r\n");
    stapler_board_exit(0x7F);
}

static void stapler_board_unexpected_irq(void)
{
    stapler_board_puts("\r\nfatal: unexpected interrupt\r\n");
    stapler_board_exit(0x7E);
}

typedef void (*stapler_vector_t)(void);

/* 16 system exceptions + 32 external interrupts (the CMSDK peripherals, LAN9118 on IRQ 13). */
__attribute__((section(".vectors"), used)) static const stapler_vector_t stapler_vectors[16 + 32] = {
    [0] = (stapler_vector_t) (uintptr_t) &stapler_stack_top,
    [1] = stapler_board_reset,
    [2] = stapler_board_fault,  /* NMI */
    [3] = stapler_board_fault,  /* HardFault */
    [4] = stapler_board_fault,  /* MemManage */
    [5] = stapler_board_fault,  /* BusFault */
    [6] = stapler_board_fault,  /* UsageFault */
    [11] = stapler_board_unexpected_irq, /* SVCall */
    [12] = stapler_board_unexpected_irq, /* DebugMonitor */
    [14] = stapler_board_unexpected_irq, /* PendSV */
    [15] = stapler_board_systick,
    [16 ... 16 + 12] = stapler_board_unexpected_irq,
    [16 + 13] = stapler_lan9118_irq, /* LAN9118 Ethernet */
    [16 + 14 ... 47] = stapler_board_unexpected_irq,
};
