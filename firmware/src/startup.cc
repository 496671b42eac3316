// Cortex-M4F start-up for the qemu mps2-an386 image: vector table, reset handler (FPU on, .data
// copied, .bss zeroed, stack painted, constructors run, main called) and fault reporting.
#include "firmware/src/startup.h"

#include <cstdint>

#include "firmware/src/semihosting.h"
#include "firmware/src/text_buffer.h"

// Symbols from firmware/mps2_an386.ld.
extern "C" {
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _sstack[], _estack[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
int main();
[[noreturn]] void Reset_Handler();
[[noreturn]] void Fault_Handler();
}

namespace {

constexpr uint32_t kStackPaint = 0x5A5AA5A5u;
// Coprocessor Access Control Register: CP10 and CP11 (the FPU) full access.
volatile uint32_t* const kCpacr = reinterpret_cast<volatile uint32_t*>(0xE000ED88u);
constexpr uint32_t kCpacrFpuFullAccess = 0xFu << 20;

using Handler = void (*)();

}  // namespace

// Initial stack pointer, then the handlers of the Cortex-M core exceptions. No peripheral
// interrupts are enabled, so the table stops at SysTick.
__attribute__((section(".isr_vector"), used)) const Handler kVectorTable[16] = {
    reinterpret_cast<Handler>(_estack),
    Reset_Handler,
    Fault_Handler,  // NMI
    Fault_Handler,  // HardFault
    Fault_Handler,  // MemManage
    Fault_Handler,  // BusFault
    Fault_Handler,  // UsageFault (also: an FPU instruction with the FPU off)
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    Fault_Handler,  // SVCall
    Fault_Handler,  // DebugMonitor
    nullptr,
    Fault_Handler,  // PendSV
    Fault_Handler,  // SysTick
};

void Reset_Handler() {
  // The FPU first: the compiler may use it anywhere from here on.
  *kCpacr = *kCpacr | kCpacrFpuFullAccess;
  asm volatile("dsb\n\tisb" ::: "memory");

  for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;) *dst++ = *src++;
  for (uint32_t* dst = _sbss; dst < _ebss;) *dst++ = 0;

  // Paint the stack below what this function uses, to measure the deepest use afterwards.
  uint32_t* sp;
  asm volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t* p = _sstack; p < sp - 16; ++p) *p = kStackPaint;

  for (auto* ctor = __init_array_start; ctor < __init_array_end; ++ctor) (*ctor)();

  wattguard::firmware::semihosting::exit(main());
}

void Fault_Handler() {
  uint32_t ipsr;
  asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  wattguard::firmware::TextBuffer line;
  line.append("fault: exception ").append_uint(ipsr & 0x1FFu);
  wattguard::firmware::semihosting::write_line(line.c_str());
  wattguard::firmware::semihosting::exit(3);
}

namespace wattguard::firmware {

uint32_t stack_capacity_bytes() {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(_estack) - reinterpret_cast<uintptr_t>(_sstack));
}

uint32_t stack_used_bytes() {
  const uint32_t* p = _sstack;
  while (p < _estack && *p == kStackPaint) ++p;
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(_estack) - reinterpret_cast<uintptr_t>(p));
}

}  // namespace wattguard::firmware
