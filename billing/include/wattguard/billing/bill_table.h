// A bill as a readable table for a terminal: slab lines with their ToD window, charges, tax, total, and what
// the readings covered (a running bill says so).
#pragma once

#include <string>

#include "wattguard/billing/bill.h"

namespace wattguard::billing {

// Several lines ending in a newline, e.g.
//   meter M1  cycle 2024-03 (2024-03-01 to 2024-03-31, +05:30)  tariff domestic, telescopic, INR
//     slab kWh         ToD           kWh      rate    amount
//     0 - 100                    100.000      4.71    471.00
//     ...
//     total                      150.000            1282.38
std::string bill_to_table(const Bill& bill);

}  // namespace wattguard::billing
