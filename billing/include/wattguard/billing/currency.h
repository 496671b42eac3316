// The ISO 4217 currencies a tariff may bill in, with the number of digits of each one's minor unit (INR 2:
// paise; JPY 0; KWD 3: fils), which sets how amounts are rounded and printed.
#pragma once

#include <optional>
#include <string_view>

namespace wattguard::billing {

struct Currency {
  std::string_view code;  // "INR", upper case as ISO 4217 writes it
  int minor_digits = 2;   // digits after the decimal point of an amount (0 to 4)
};

// The currency with this exact code, or nullopt for anything else: codes are matched as written (upper case),
// and the codes without a minor unit (precious metals XAU, XAG..., the SDR XDR, testing XTS, XXX) and
// withdrawn ones are not currencies a bill can be in.
std::optional<Currency> find_currency(std::string_view code);

}  // namespace wattguard::billing
