# Toolchain: bare-metal Arm Cortex-M4F (Thumb-2, single-precision FPU, hard-float ABI),
# Debian's gcc-arm-none-eabi with newlib (nano). Used by the mps2-an386 preset.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m4)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar)
set(CMAKE_RANLIB arm-none-eabi-ranlib)
set(CMAKE_OBJCOPY arm-none-eabi-objcopy)
set(CMAKE_SIZE arm-none-eabi-size)
set(CMAKE_NM arm-none-eabi-nm)

# No host libraries or executables can run: test-compile static libraries only.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(STAPLER_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard")
set(CMAKE_C_FLAGS_INIT "${STAPLER_CPU_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "${STAPLER_CPU_FLAGS}")
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os -g")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${STAPLER_CPU_FLAGS} --specs=nano.specs -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
