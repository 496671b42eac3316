// A bill as CSV, for spreadsheets and accounting imports: one row per slab line, then the fixed charge, the tax
// and the total, with the same exact decimal text as the JSON form.
#pragma once

#include <string>

#include "wattguard/billing/bill.h"

namespace wattguard::billing {

// Header `meter,cycle,tariff,currency,item,from_kwh,to_kwh,kwh,rate,amount`; `item` is "energy" for a slab
// line (to_kwh empty for the last slab), then "fixed_charge", "tax" and "total" rows with only the amount.
// Every row ends in "\r\n" (RFC 4180). Text fields are quoted when they hold a comma, quote or line break.
std::string bill_to_csv(const Bill& bill);

}  // namespace wattguard::billing
