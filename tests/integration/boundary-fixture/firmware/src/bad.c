/* Fixture for tests/integration/check-core-boundary: a core file breaking both rules. The
 * checker must report the heap call and the platform include below. Never built. */
#include <stdio.h>

void *fixture_leak(void)
{
    return malloc(16);
}
