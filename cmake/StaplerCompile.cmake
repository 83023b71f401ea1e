# Compiler settings. Stapler's own code is held to -Wall -Wextra -Werror and more;
# third-party code is built with its own defaults and its headers are SYSTEM includes, so a
# new compiler's warnings in Mbed TLS or lwIP cannot break the build.

set(STAPLER_WARNINGS
    -Wall -Wextra -Werror
    -Wshadow -Wpointer-arith -Wcast-qual -Wwrite-strings
    -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -Wundef)

# stapler_strict(<target>): our warning set plus per-object stack usage (.su files) for the
# stack-depth reports.
function(stapler_strict target)
    target_compile_options(${target} PRIVATE ${STAPLER_WARNINGS})
    if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
        target_compile_options(${target} PRIVATE -fstack-usage)
    endif()
endfunction()

if(NOT STAPLER_HOST)
    # Dead code and data out of the image: every function and object in its own section.
    add_compile_options(-ffunction-sections -fdata-sections)
endif()
