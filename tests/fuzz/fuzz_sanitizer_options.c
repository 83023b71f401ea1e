/*
 * Built into every fuzz target: the sanitizer options they always run with, so that a run by
 * hand, from CTest and from tools/fuzz behaves the same. Every UBSan report is fatal
 * (halt_on_error), except what tests/fuzz/ubsan.supp lists, with the reason.
 */
const char *__ubsan_default_options(void);

const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1:suppressions=" STAPLER_UBSAN_SUPPRESSIONS;
}
