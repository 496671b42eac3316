// What the start-up code knows about the image's stack, for the RAM report.
#pragma once

#include <cstdint>

namespace wattguard::firmware {

uint32_t stack_capacity_bytes();
// Deepest stack use since reset (the start-up code paints the stack; this finds the paint's end).
uint32_t stack_used_bytes();

}  // namespace wattguard::firmware
