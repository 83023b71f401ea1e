# `cmake --install`: Stapler as a library (issue 16). Installs the static libraries, their
# public headers and a CMake package, so that an application elsewhere does
#     find_package(Stapler REQUIRED CONFIG)
#     target_link_libraries(app PRIVATE Stapler::core Stapler::posix)
# and compiles against exactly the configuration the libraries were built with: the Kconfig
# header (stapler/stapler_autoconf.h), Stapler's Mbed TLS configuration and lwipopts.h, and
# the Mbed TLS and lwIP headers of the trees this build compiled (with Stapler's patches).
#
# Layout under the prefix (each directory below is an include directory of its own, so
# the Mbed TLS and lwIP headers never shadow, nor are shadowed by, another copy in the
# same prefix):
#   lib/libstapler_*.a                     the libraries, Mbed TLS and lwIP included
#   lib/cmake/Stapler/                     StaplerConfig.cmake, version, exported targets
#   include/stapler/core/stapler/*.h       the core API and the generated Kconfig header
#   include/stapler/port/                  stapler_port.h, the core <-> platform contract
#   include/stapler/port-mbedtls/          Mbed TLS config headers, platform glue, stapler_tls.h
#   include/stapler/port-lwip/             lwipopts.h, arch/cc.h, the lwIP transport
#   include/stapler/port-posix/            the POSIX platform (host builds)
#   include/stapler/board/                 the board's headers (board builds)
#   include/stapler/mbedtls/               Mbed TLS's mbedtls/ and psa/ (patched)
#   include/stapler/lwip/                  lwIP's lwip/, netif/, compat/
#   include/stapler/lwip-unix/             lwIP's pthreads sys_arch (threaded host builds)
#   share/stapler/stapler.config           the Kconfig .config the libraries were built with
#
# The targets keep their build-tree include directories; this file maps each one to its
# installed place ($<BUILD_INTERFACE:...>/$<INSTALL_INTERFACE:...>) after the fact, so the
# CMakeLists that define them need no install logic. A public include directory the table
# below does not name is installed under a name made from its path in the source, build or
# lwIP tree (port/foo/include -> include/stapler/port-foo-include); one outside them stops
# the configure step.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(STAPLER_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/stapler)
set(STAPLER_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Stapler)
set(STAPLER_INSTALL_DATADIR ${CMAKE_INSTALL_DATADIR}/stapler)

# The package's version is project()'s; the header a consumer compiles against must agree.
file(STRINGS ${CMAKE_SOURCE_DIR}/firmware/include/stapler/version.h _v
     REGEX "define STAPLER_VERSION_STRING ")
string(REGEX REPLACE ".*\"(.*)\".*" "\\1" _v "${_v}")
if(NOT _v STREQUAL PROJECT_VERSION)
    message(FATAL_ERROR "firmware/include/stapler/version.h says ${_v} but project() in CMakeLists.txt says ${PROJECT_VERSION}: change both together (the installed package carries project()'s).")
endif()

# Public include directories in the build tree -> directory under include/stapler/.
set(_stapler_include_map
    ${CMAKE_SOURCE_DIR}/firmware/include                core
    ${STAPLER_GENERATED_DIR}                            core
    ${CMAKE_SOURCE_DIR}/port/include                    port
    ${CMAKE_SOURCE_DIR}/port/mbedtls/include            port-mbedtls
    ${CMAKE_SOURCE_DIR}/port/lwip/include               port-lwip
    ${CMAKE_SOURCE_DIR}/port/posix/include              port-posix
    ${CMAKE_SOURCE_DIR}/board/${STAPLER_BOARD}          board
    ${CMAKE_BINARY_DIR}/mbedtls-patched/include         mbedtls
    ${STAPLER_LWIP_DIR}/src/include                     lwip
    ${STAPLER_LWIP_DIR}/contrib/ports/unix/port/include lwip-unix)

# Exported targets: build target -> Stapler::<name>. The platform lwIP's sys_now() and the
# core's port functions come from is the posix port on the host and the board elsewhere
# (stapler_platform, an alias).
set(_stapler_export_map
    stapler_config          config
    stapler_mbedtls         mbedtls
    stapler_port_mbedtls    mbedtls_platform
    stapler_core            core
    stapler_tls             tls
    stapler_lwip            lwip_stack
    stapler_lwip_transport  lwip
    stapler_port_posix      posix)
get_target_property(_stapler_platform stapler_platform ALIASED_TARGET)
if(NOT _stapler_platform STREQUAL "stapler_port_posix")
    list(APPEND _stapler_export_map ${_stapler_platform} board)
endif()

# _stapler_install_interface(<target>): wrap the target's public include directories in
# BUILD_INTERFACE and add where they are installed; install the headers they hold.
function(_stapler_install_interface target)
    foreach(_prop INTERFACE_INCLUDE_DIRECTORIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES)
        get_target_property(_dirs ${target} ${_prop})
        if(NOT _dirs)
            continue()
        endif()
        set(_new)
        foreach(_dir IN LISTS _dirs)
            if(_dir MATCHES "^\\$<")
                list(APPEND _new "${_dir}")   # already says where it is installed
                continue()
            endif()
            if(_prop STREQUAL "INTERFACE_SYSTEM_INCLUDE_DIRECTORIES")
                # Installed, every include directory of an imported target is a system one
                # to its consumers already.
                list(APPEND _new "$<BUILD_INTERFACE:${_dir}>")
                continue()
            endif()
            cmake_path(NORMAL_PATH _dir OUTPUT_VARIABLE _norm)
            string(REGEX REPLACE "/$" "" _norm "${_norm}")
            set(_sub)
            set(_map ${_stapler_include_map})
            while(_map)
                list(POP_FRONT _map _from _to)
                cmake_path(NORMAL_PATH _from)
                string(REGEX REPLACE "/$" "" _from "${_from}")
                if(_from STREQUAL _norm)
                    set(_sub ${_to})
                    break()
                endif()
            endwhile()
            if(NOT _sub)
                # The innermost tree first: the build and .deps/ may be inside the source.
                foreach(_root ${CMAKE_BINARY_DIR} ${STAPLER_LWIP_DIR} ${CMAKE_SOURCE_DIR})
                    cmake_path(IS_PREFIX _root "${_norm}" NORMALIZE _inside)
                    if(_inside)
                        cmake_path(RELATIVE_PATH _norm BASE_DIRECTORY ${_root} OUTPUT_VARIABLE _sub)
                        string(REPLACE "/" "-" _sub "${_sub}")
                        if(_sub STREQUAL ".")
                            cmake_path(GET _norm FILENAME _sub)
                        endif()
                        break()
                    endif()
                endforeach()
            endif()
            if(NOT _sub)
                message(FATAL_ERROR "cmake/StaplerInstall.cmake: ${target} has the public include directory ${_dir}, outside Stapler's trees, which the install does not know. Add it to _stapler_include_map with the directory under include/stapler/ its headers go to.")
            endif()
            list(APPEND _new "$<BUILD_INTERFACE:${_dir}>"
                             "$<INSTALL_INTERFACE:${STAPLER_INSTALL_INCLUDEDIR}/${_sub}>")
            set_property(GLOBAL APPEND PROPERTY STAPLER_INSTALLED_INCLUDE_DIRS "${_norm}|${_sub}")
        endforeach()
        list(REMOVE_DUPLICATES _new)
        set_property(TARGET ${target} PROPERTY ${_prop} "${_new}")
    endforeach()
endfunction()

set(_stapler_exported)
set(_map ${_stapler_export_map})
while(_map)
    list(POP_FRONT _map _target _name)
    if(NOT TARGET ${_target})
        continue()   # not in this configuration (stapler_tls without CONFIG_STAPLER_TLS)
    endif()
    set_target_properties(${_target} PROPERTIES EXPORT_NAME ${_name})
    _stapler_install_interface(${_target})
    list(APPEND _stapler_exported ${_target})
    list(APPEND STAPLER_EXPORTED_NAMES ${_name})
endwhile()

# Targets from outside the package that the exported ones link (the threaded host build's
# Threads::Threads): the package config finds them first.
set(STAPLER_PACKAGE_DEPENDENCIES "")
foreach(_target IN LISTS _stapler_exported)
    get_target_property(_links ${_target} INTERFACE_LINK_LIBRARIES)
    if(_links MATCHES "Threads::Threads" AND NOT STAPLER_PACKAGE_DEPENDENCIES MATCHES "Threads")
        string(APPEND STAPLER_PACKAGE_DEPENDENCIES "find_dependency(Threads)\n")
    endif()
endforeach()

install(TARGETS ${_stapler_exported} EXPORT StaplerTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

# The headers of every include directory an exported target made public, once each.
get_property(_dirs GLOBAL PROPERTY STAPLER_INSTALLED_INCLUDE_DIRS)
list(REMOVE_DUPLICATES _dirs)
foreach(_entry IN LISTS _dirs)
    string(REPLACE "|" ";" _entry "${_entry}")
    list(GET _entry 0 _dir)
    list(GET _entry 1 _sub)
    install(DIRECTORY ${_dir}/ DESTINATION ${STAPLER_INSTALL_INCLUDEDIR}/${_sub}
            FILES_MATCHING PATTERN "*.h")
endforeach()

install(FILES ${CMAKE_BINARY_DIR}/.config DESTINATION ${STAPLER_INSTALL_DATADIR}
        RENAME stapler.config)
if(NOT STAPLER_HOST)
    # What linking an image for the board takes beyond the libraries: its linker script, and
    # the toolchain file with its CPU and ABI flags (the libraries' ABI).
    file(GLOB _ld ${CMAKE_SOURCE_DIR}/board/${STAPLER_BOARD}/*.ld)
    install(FILES ${_ld} DESTINATION ${STAPLER_INSTALL_DATADIR}/board)
    if(CMAKE_TOOLCHAIN_FILE)
        install(FILES ${CMAKE_TOOLCHAIN_FILE} DESTINATION ${STAPLER_INSTALL_DATADIR}
                RENAME toolchain.cmake)
    endif()
endif()

install(EXPORT StaplerTargets NAMESPACE Stapler:: DESTINATION ${STAPLER_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/StaplerConfig.cmake.in
    ${CMAKE_BINARY_DIR}/StaplerConfig.cmake
    INSTALL_DESTINATION ${STAPLER_INSTALL_CMAKEDIR}
    PATH_VARS STAPLER_INSTALL_DATADIR)
# 0.x: a new minor version may change the API, so only the same MAJOR.MINOR is compatible.
# Not architecture-independent: a 64-bit host build does not satisfy a 32-bit firmware
# project, nor the reverse.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/StaplerConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/StaplerConfig.cmake ${CMAKE_BINARY_DIR}/StaplerConfigVersion.cmake
        DESTINATION ${STAPLER_INSTALL_CMAKEDIR})
