# CMake toolchain file: Debian's gcc-arm-none-eabi for a Cortex-M4F (single-precision FPU, hard-float ABI).
# The CPU flags live here so that CMake's compiler checks and every object (and the multilib the driver
# picks for newlib and libgcc) agree on the ABI; optimisation and warnings are set in firmware/CMakeLists.txt.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar)
set(CMAKE_RANLIB arm-none-eabi-ranlib)
set(CMAKE_OBJCOPY arm-none-eabi-objcopy)
set(CMAKE_SIZE arm-none-eabi-size)
set(CMAKE_NM arm-none-eabi-nm)

set(wattguard_cpu_flags "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
set(CMAKE_C_FLAGS_INIT "${wattguard_cpu_flags}")
set(CMAKE_CXX_FLAGS_INIT "${wattguard_cpu_flags}")
set(CMAKE_ASM_FLAGS_INIT "${wattguard_cpu_flags}")
# newlib-nano: the small C library; nothing here may need its heap (see firmware/CMakeLists.txt).
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs")

# There is no OS to run a test executable on: CMake's compiler checks build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
