// A bill as one line of JSON (JSON Lines): the form `wattguard bill --json` prints and the API will serve.
#pragma once

#include <string>

#include "wattguard/billing/bill.h"

namespace wattguard::billing {

// {"meter", "tariff", "cycle", "currency", "kwh", "energy_charge", "fixed_charge", "tax", "total",
//  "lines": [{"from_kwh", "to_kwh", "kwh", "rate", "amount"}]} and a newline. Money is a JSON number in major
// units with exactly the currency's minor digits (471.00; 471 for JPY), written from the integers, never
// through a double; kWh figures have at least 3 decimals and as many more as needed to be exact (up to 9);
// a rate has the digits it needs (3.768); the last slab's to_kwh is null. "tariff" is the tariff's id.
std::string bill_to_json(const Bill& bill);

}  // namespace wattguard::billing
