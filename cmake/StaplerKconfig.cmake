# Kconfig at configure time: Kconfig + defconfig (+ overlays) -> build/.config ->
#   generated/stapler/stapler_autoconf.h   (C, included by firmware/include/stapler/config.h)
#   generated/stapler_config.cmake         (the same values as CMake variables)
# Targets: menuconfig (edit build/.config), savedefconfig (minimal file to commit).

# stapler_find_python(VAR MODULE DOC): the first python3 that imports MODULE, PATH's first,
# then /usr/bin/python3, cached in VAR. Debian's python3-* modules are installed for the
# system Python, and a different python3 may come first on PATH (pyenv, venv).
function(stapler_find_python var module doc)
    if(${var})
        return()
    endif()
    find_program(_stapler_path_python NAMES python3)
    foreach(_py ${_stapler_path_python} /usr/bin/python3)
        if(_py)
            execute_process(COMMAND ${_py} -c "import ${module}" RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
            if(_rc EQUAL 0)
                set(${var} ${_py} CACHE FILEPATH "${doc}")
                return()
            endif()
        endif()
    endforeach()
endfunction()

# kconfiglib: Debian's python3-kconfiglib.
stapler_find_python(STAPLER_KCONFIG_PYTHON kconfiglib "Python 3 with kconfiglib")
if(NOT STAPLER_KCONFIG_PYTHON)
    message(FATAL_ERROR "No python3 with the 'kconfiglib' module was found. Install Debian's python3-kconfiglib (tools/setup does it), or set STAPLER_KCONFIG_PYTHON.")
endif()

set(STAPLER_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)
set(_kconfig_overlay_args)
foreach(_overlay ${STAPLER_CONFIG_OVERLAY})
    list(APPEND _kconfig_overlay_args --overlay ${_overlay})
endforeach()
execute_process(
    COMMAND ${STAPLER_KCONFIG_PYTHON} ${CMAKE_SOURCE_DIR}/tools/kconfig.py genconfig
            --kconfig ${CMAKE_SOURCE_DIR}/Kconfig
            --defconfig ${STAPLER_DEFCONFIG} ${_kconfig_overlay_args}
            --config ${CMAKE_BINARY_DIR}/.config
            --header ${STAPLER_GENERATED_DIR}/stapler/stapler_autoconf.h
            --cmake ${STAPLER_GENERATED_DIR}/stapler_config.cmake
            --deps ${STAPLER_GENERATED_DIR}/kconfig_deps.txt
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    RESULT_VARIABLE _kconfig_rc)
if(NOT _kconfig_rc EQUAL 0)
    message(FATAL_ERROR "Kconfig: the configuration above is not valid (fix the file it names).")
endif()
include(${STAPLER_GENERATED_DIR}/stapler_config.cmake)

# Re-run configure when any Kconfig file, the defconfig, an overlay or .config changes.
file(STRINGS ${STAPLER_GENERATED_DIR}/kconfig_deps.txt _kconfig_deps)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_kconfig_deps})

add_custom_target(menuconfig
    COMMAND ${STAPLER_KCONFIG_PYTHON} ${CMAKE_SOURCE_DIR}/tools/kconfig.py menuconfig
            --kconfig ${CMAKE_SOURCE_DIR}/Kconfig --config ${CMAKE_BINARY_DIR}/.config
    COMMAND ${CMAKE_COMMAND} ${CMAKE_BINARY_DIR}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    USES_TERMINAL
    COMMENT "menuconfig: editing ${CMAKE_BINARY_DIR}/.config")
add_custom_target(savedefconfig
    COMMAND ${STAPLER_KCONFIG_PYTHON} ${CMAKE_SOURCE_DIR}/tools/kconfig.py savedefconfig
            --kconfig ${CMAKE_SOURCE_DIR}/Kconfig --config ${CMAKE_BINARY_DIR}/.config
            --out ${CMAKE_BINARY_DIR}/defconfig
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    COMMENT "savedefconfig: ${CMAKE_BINARY_DIR}/defconfig")

# Everything Stapler builds sees the configuration through this target.
add_library(stapler_config INTERFACE)
target_include_directories(stapler_config INTERFACE
    ${STAPLER_GENERATED_DIR} ${CMAKE_SOURCE_DIR}/firmware/include)
