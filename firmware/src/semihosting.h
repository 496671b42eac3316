// ARM semihosting, the two calls the firmware check needs: print a string on the debugger's
// (here qemu's) console and end the program with an exit status.
#pragma once

#include <cstdint>

namespace wattguard::firmware::semihosting {

// SYS_WRITE0: writes a NUL-terminated string.
void write(const char* text);
// `text` and a newline.
void write_line(const char* text);
// SYS_EXIT_EXTENDED: qemu exits with `status`. Does not return.
[[noreturn]] void exit(int32_t status);

}  // namespace wattguard::firmware::semihosting
