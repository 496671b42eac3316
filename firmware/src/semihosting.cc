// Semihosting on M-profile: the operation number in r0, a pointer to its argument in r1,
// then BKPT 0xAB; a debugger (or qemu with -semihosting) performs the operation.
#include "firmware/src/semihosting.h"

namespace wattguard::firmware::semihosting {
namespace {

constexpr uint32_t kSysWrite0 = 0x04;
constexpr uint32_t kSysExitExtended = 0x20;
constexpr uint32_t kAdpStoppedApplicationExit = 0x20026;

uint32_t call(uint32_t operation, const void* argument) {
  register uint32_t r0 asm("r0") = operation;
  register const void* r1 asm("r1") = argument;
  asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

}  // namespace

void write(const char* text) { call(kSysWrite0, text); }

void write_line(const char* text) {
  write(text);
  write("\n");
}

void exit(int32_t status) {
  // The extended form takes a block {reason, status}, so a failure can reach qemu's exit code.
  const uint32_t block[2] = {kAdpStoppedApplicationExit, static_cast<uint32_t>(status)};
  call(kSysExitExtended, block);
  for (;;) {
  }
}

}  // namespace wattguard::firmware::semihosting
