// Tariff TOML: every [[tariff]] key read and checked against its rule, numbers from their decimal text.
#include "wattguard/billing/tariff_toml.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "wattguard/billing/currency.h"
#include "wattguard/billing/decimal.h"

namespace wattguard::billing {
namespace {

constexpr std::array<std::string_view, 10> kTariffKeys = {"id",        "currency",      "cycle",        "time_zone",
                                                          "slab_mode", "slabs",         "fixed_charge", "tax_percent",
                                                          "tod",       "effective_from"};
constexpr int64_t kMaxTaxPercent = 100;
constexpr int kMinutesPerDay = 1440;

int64_t line_of(const toml::node& node) { return static_cast<int64_t>(node.source().begin.line); }

// Byte offset in `line` of the 1-based column toml++ reports, which counts UTF-8 code points; npos past the end.
size_t byte_of_column(std::string_view line, uint32_t column) {
  uint32_t at = 1;
  for (size_t i = 0; i <= line.size(); ++i) {
    const bool continuation = i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80;
    if (continuation) continue;
    if (at == column) return i;
    ++at;
  }
  return std::string_view::npos;
}

// Reads one text: keeps its lines for the numbers' source text, and makes its Errors.
class TariffReader {
 public:
  TariffReader(std::string_view text, std::string source) : source_(std::move(source)) {
    size_t start = 0;
    while (start <= text.size()) {
      const size_t end = text.find('\n', start);
      lines_.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }

  Error error(int64_t line, std::string field, std::string value, std::string message) const {
    return Error::invalid(std::move(field), std::move(value), std::move(message)).at(source_, line);
  }

  Expected<Tariff> read_tariff(const toml::table& table) const;

 private:
  Expected<std::string> string_key(const toml::table& table, std::string_view key, bool required) const;
  Expected<std::string> number_text(const toml::node& node, const std::string& field) const;
  Expected<int64_t> scaled_number(const toml::node& node, const std::string& field, int decimals,
                                  const std::string& unit) const;
  Expected<void> read_slabs(const toml::node& node, Tariff& tariff) const;
  Expected<void> read_tod(const toml::node& node, Tariff& tariff) const;
  Expected<void> read_effective_from(const toml::node& node, Tariff& tariff) const;

  std::string source_;
  std::vector<std::string_view> lines_;
};

// A value as written, for messages: strings bare (Error adds the quotes), numbers and dates as TOML prints them.
std::string describe(const toml::node& node) {
  if (const auto* s = node.as_string()) return s->get();
  if (node.is_table()) return "a table";
  if (node.is_array()) return "an array";
  std::ostringstream out;
  node.visit([&out](const auto& value) {
    if constexpr (toml::is_value<decltype(value)>) out << value;
  });
  return out.str();
}

Expected<std::string> TariffReader::string_key(const toml::table& table, std::string_view key, bool required) const {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    if (!required) return std::string();
    return error(line_of(table), std::string(key), "", "missing: every [[tariff]] needs " + std::string(key));
  }
  const auto* s = node->as_string();
  if (s == nullptr) return error(line_of(*node), std::string(key), describe(*node), "must be a string");
  return s->get();
}

// The number as written in the file: the decimal text of a float comes from the source line (toml++ keeps
// only the double), checked against the double so a wrong column can never pass unnoticed.
Expected<std::string> TariffReader::number_text(const toml::node& node, const std::string& field) const {
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  const auto* f = node.as_floating_point();
  if (f == nullptr) return error(line_of(node), field, describe(node), "must be a number");
  if (!std::isfinite(f->get())) return error(line_of(node), field, describe(node), "must be a finite number");
  const toml::source_region& region = node.source();
  const auto line_index = static_cast<size_t>(region.begin.line);
  if (line_index == 0 || line_index > lines_.size() || region.end.line != region.begin.line) {
    return Error::internal("cannot find the text of the number").at(source_, line_of(node));
  }
  const std::string_view line = lines_[line_index - 1];
  const size_t begin = byte_of_column(line, region.begin.column);
  const size_t end = byte_of_column(line, region.end.column);
  if (begin == std::string_view::npos || end == std::string_view::npos || end <= begin) {
    return Error::internal("cannot find the text of the number").at(source_, line_of(node));
  }
  const std::string text(line.substr(begin, end - begin));
  std::string plain;
  for (char c : text) {
    if (c != '_' && c != '+') plain += c;
  }
  double check = 0;
  const auto [ptr, ec] = std::from_chars(plain.data(), plain.data() + plain.size(), check);
  if (ec != std::errc() || ptr != plain.data() + plain.size() || check != f->get()) {
    return Error::internal("the text of the number does not match its value").at(source_, line_of(node));
  }
  return text;
}

Expected<int64_t> TariffReader::scaled_number(const toml::node& node, const std::string& field, int decimals,
                                              const std::string& unit) const {
  auto text = number_text(node, field);
  if (!text.ok()) return std::move(text).error();
  auto scaled = parse_scaled_decimal(text.value(), decimals);
  if (!scaled.ok()) {
    std::string message = scaled.error().message;
    if (message.find("digits after the decimal point") != std::string::npos) message += " (" + unit + ")";
    return error(line_of(node), field, text.value(), message);
  }
  return scaled.value();
}

Expected<void> TariffReader::read_slabs(const toml::node& node, Tariff& tariff) const {
  const auto* array = node.as_array();
  if (array == nullptr) return error(line_of(node), "slabs", describe(node), "must be an array of { upto_kwh, rate }");
  if (array->empty()) return error(line_of(node), "slabs", "", "needs at least one slab");
  if (array->size() > kMaxSlabs) {
    return error(line_of(node), "slabs", "", "more than " + std::to_string(kMaxSlabs) + " slabs");
  }
  const int rate_decimals = tariff.minor_digits + kRateDecimalsBeyondMinor;
  const int64_t max_rate = kMaxRateMajor * power_of_ten(rate_decimals);
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string name = "slabs[" + std::to_string(i) + "]";
    const auto* slab_table = element.as_table();
    if (slab_table == nullptr) {
      return error(line_of(element), name, describe(element), "must be a table { upto_kwh = ..., rate = ... }");
    }
    for (const auto& [key, value] : *slab_table) {
      if (key.str() != "upto_kwh" && key.str() != "rate") {
        return error(line_of(value), name + "." + std::string(key.str()), describe(value),
                     "unknown key in a slab (keys: upto_kwh, rate)");
      }
    }
    Slab slab;
    const toml::node* rate = slab_table->get("rate");
    if (rate == nullptr) return error(line_of(element), name + ".rate", "", "missing: every slab needs a rate");
    auto rate_value = scaled_number(*rate, name + ".rate", rate_decimals,
                                    "rates are kept to 1e-4 of the " + tariff.currency + " minor unit");
    if (!rate_value.ok()) return std::move(rate_value).error();
    if (rate_value.value() < 0) {
      return error(line_of(*rate), name + ".rate", number_text(*rate, name).value(), "a rate must not be negative");
    }
    if (rate_value.value() > max_rate) {
      return error(line_of(*rate), name + ".rate", number_text(*rate, name).value(),
                   "a rate above " + std::to_string(kMaxRateMajor) + " per kWh is not plausible");
    }
    slab.rate = rate_value.value();
    const bool last = i + 1 == array->size();
    const toml::node* upto = slab_table->get("upto_kwh");
    if (upto == nullptr && !last) {
      return error(line_of(element), name + ".upto_kwh", "",
                   "missing: only the last slab may leave out upto_kwh (it takes everything above)");
    }
    if (upto != nullptr && last) {
      return error(line_of(*upto), name + ".upto_kwh", describe(*upto),
                   "the last slab must leave out upto_kwh: it takes every kWh above the one before");
    }
    if (upto != nullptr) {
      auto bound = scaled_number(*upto, name + ".upto_kwh", kEnergyDecimals, "energy is kept to 1e-9 kWh");
      if (!bound.ok()) return std::move(bound).error();
      const std::string text = number_text(*upto, name).value();
      if (bound.value() <= 0) return error(line_of(*upto), name + ".upto_kwh", text, "must be above 0 kWh");
      if (bound.value() > kMaxUptoKwh * kUwhPerKwh) {
        return error(line_of(*upto), name + ".upto_kwh", text,
                     "above " + std::to_string(kMaxUptoKwh) + " kWh is not plausible");
      }
      if (!tariff.slabs.empty() && bound.value() <= *tariff.slabs.back().upto_uwh) {
        return error(line_of(*upto), name + ".upto_kwh", text,
                     "slabs must be in increasing order of upto_kwh without overlap: this bound is not above the "
                     "previous slab's " +
                         format_scaled_decimal(*tariff.slabs.back().upto_uwh, kEnergyDecimals, 0) + " kWh");
      }
      slab.upto_uwh = bound.value();
    }
    tariff.slabs.push_back(slab);
  }
  return {};
}

// "HH:MM" to a minute of the day; "24:00" only as the end of a window, and an end of "00:00" is the same
// midnight: a window's end is kept in 1..1440 (TodWindow), found by fuzzing (fuzz/tariff_fuzz.cc).
Expected<int> parse_clock(std::string_view text, bool is_end) {
  const auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 5 || !digit(0) || !digit(1) || text[2] != ':' || !digit(3) || !digit(4)) {
    return Error::invalid("", "", "must be a time of day HH:MM, such as \"22:00\"");
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (is_end && (hours == 24 || hours == 0) && minutes == 0) return kMinutesPerDay;
  if (hours > 23 || minutes > 59) {
    return Error::invalid("", "", is_end ? "must be between 00:00 and 24:00" : "must be between 00:00 and 23:59");
  }
  return hours * 60 + minutes;
}

// Minutes of the day a window covers, as one or two [begin, end) ranges.
std::vector<std::pair<int, int>> ranges_of(const TodWindow& w) {
  if (w.from_minute < w.to_minute) return {{w.from_minute, w.to_minute}};
  std::vector<std::pair<int, int>> out = {{w.from_minute, kMinutesPerDay}};
  if (w.to_minute > 0) out.emplace_back(0, w.to_minute);
  return out;
}

bool overlap(const TodWindow& a, const TodWindow& b) {
  for (const auto& [a0, a1] : ranges_of(a)) {
    for (const auto& [b0, b1] : ranges_of(b)) {
      if (a0 < b1 && b0 < a1) return true;
    }
  }
  return false;
}

Expected<void> TariffReader::read_tod(const toml::node& node, Tariff& tariff) const {
  const auto* array = node.as_array();
  if (array == nullptr) return error(line_of(node), "tod", describe(node), "must be an array of { from, to, factor }");
  if (array->size() > kMaxTodWindows) {
    return error(line_of(node), "tod", "", "more than " + std::to_string(kMaxTodWindows) + " windows");
  }
  std::vector<int64_t> lines;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string name = "tod[" + std::to_string(i) + "]";
    const auto* window_table = element.as_table();
    if (window_table == nullptr) {
      return error(line_of(element), name, describe(element),
                   "must be a table { from = \"HH:MM\", to = ..., factor = ... }");
    }
    for (const auto& [key, value] : *window_table) {
      if (key.str() != "from" && key.str() != "to" && key.str() != "factor") {
        return error(line_of(value), name + "." + std::string(key.str()), describe(value),
                     "unknown key in a time-of-day window (keys: from, to, factor)");
      }
    }
    TodWindow window;
    for (const bool is_end : {false, true}) {
      const char* key = is_end ? "to" : "from";
      const toml::node* value = window_table->get(key);
      const std::string field = name + "." + key;
      if (value == nullptr)
        return error(line_of(element), field, "", std::string("missing: every window needs ") + key);
      const auto* text = value->as_string();
      if (text == nullptr) return error(line_of(*value), field, describe(*value), "must be a string \"HH:MM\"");
      auto minute = parse_clock(text->get(), is_end);
      if (!minute.ok()) return error(line_of(*value), field, text->get(), minute.error().message);
      (is_end ? window.to_minute : window.from_minute) = minute.value();
    }
    if (window.from_minute % kMinutesPerDay == window.to_minute % kMinutesPerDay) {
      return error(line_of(element), name + ".to", window.label(),
                   "a window must not be empty or the whole day (from equals to); for the whole day, change the rates");
    }
    const toml::node* factor = window_table->get("factor");
    if (factor == nullptr) return error(line_of(element), name + ".factor", "", "missing: every window needs a factor");
    auto value = scaled_number(*factor, name + ".factor", kFactorDecimals, "factors are kept to 1e-4");
    if (!value.ok()) return std::move(value).error();
    if (value.value() < 0 || value.value() > kMaxTodFactor * kFactorOne) {
      return error(line_of(*factor), name + ".factor", number_text(*factor, name).value(),
                   "must be between 0 and " + std::to_string(kMaxTodFactor));
    }
    window.factor = value.value();
    for (size_t j = 0; j < tariff.tod.size(); ++j) {
      if (overlap(tariff.tod[j], window)) {
        return error(line_of(element), name, window.label(),
                     "overlaps tod[" + std::to_string(j) + "] (" + tariff.tod[j].label() + ", line " +
                         std::to_string(lines[j]) + "): windows must not overlap");
      }
    }
    tariff.tod.push_back(window);
    lines.push_back(line_of(element));
  }
  return {};
}

Expected<void> TariffReader::read_effective_from(const toml::node& node, Tariff& tariff) const {
  int year = 0, month = 0, day = 0;
  std::string text;
  if (const auto* date = node.as_date()) {
    year = date->get().year;
    month = date->get().month;
    day = date->get().day;
    text = describe(node);
  } else if (const auto* s = node.as_string()) {
    text = s->get();
    const auto digits = [&](size_t from, size_t count) {
      int v = 0;
      for (size_t i = from; i < from + count; ++i) {
        if (text[i] < '0' || text[i] > '9') return -1;
        v = v * 10 + (text[i] - '0');
      }
      return v;
    };
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
      return error(line_of(node), "effective_from", text, "must be a date YYYY-MM-DD");
    }
    year = digits(0, 4);
    month = digits(5, 2);
    day = digits(8, 2);
  } else {
    return error(line_of(node), "effective_from", describe(node), "must be a date YYYY-MM-DD");
  }
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (year < 1000 || year > 9998 || month < 0 || day < 0 || !date.ok()) {
    return error(line_of(node), "effective_from", text, "not a date between 1000-01-01 and 9998-12-31");
  }
  char canonical[16];
  std::snprintf(canonical, sizeof canonical, "%04d-%02d-%02d", year, month, day);
  tariff.effective_from = canonical;
  tariff.effective_from_s = local_midnight_s(year, month, day, tariff.utc_offset_s);
  return {};
}

Expected<Tariff> TariffReader::read_tariff(const toml::table& table) const {
  Tariff tariff;
  tariff.source = source_;
  tariff.line = line_of(table);
  for (const auto& [key, value] : table) {
    if (std::find(kTariffKeys.begin(), kTariffKeys.end(), key.str()) == kTariffKeys.end()) {
      return error(line_of(value), std::string(key.str()), describe(value),
                   "unknown key in [[tariff]] (keys: id, currency, cycle, time_zone, slab_mode, slabs, fixed_charge, "
                   "tax_percent, tod, effective_from)");
    }
  }
  auto id = string_key(table, "id", true);
  if (!id.ok()) return std::move(id).error();
  tariff.id = id.value();
  const bool id_ok = !tariff.id.empty() && tariff.id.size() <= kMaxTariffIdLength &&
                     std::all_of(tariff.id.begin(), tariff.id.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                              c == '-' || c == '.';
                     });
  if (!id_ok) {
    return error(line_of(*table.get("id")), "id", tariff.id,
                 "must be 1 to " + std::to_string(kMaxTariffIdLength) + " letters, digits, '_', '-' or '.'");
  }

  auto currency = string_key(table, "currency", true);
  if (!currency.ok()) return std::move(currency).error();
  const auto known = find_currency(currency.value());
  if (!known) {
    return error(line_of(*table.get("currency")), "currency", currency.value(),
                 "unknown currency: not an ISO 4217 code with a minor unit (codes are upper case, such as \"INR\")");
  }
  tariff.currency = std::string(known->code);
  tariff.minor_digits = known->minor_digits;

  auto cycle = string_key(table, "cycle", true);
  if (!cycle.ok()) return std::move(cycle).error();
  if (cycle.value() == "monthly") {
    tariff.cycle = CycleKind::kMonthly;
  } else if (cycle.value() == "bimonthly") {
    tariff.cycle = CycleKind::kBimonthly;
  } else {
    return error(line_of(*table.get("cycle")), "cycle", cycle.value(), "must be \"monthly\" or \"bimonthly\"");
  }

  auto zone = string_key(table, "time_zone", true);
  if (!zone.ok()) return std::move(zone).error();
  auto offset = parse_utc_offset(zone.value());
  if (!offset.ok()) return error(line_of(*table.get("time_zone")), "time_zone", zone.value(), offset.error().message);
  tariff.utc_offset_s = offset.value();

  auto mode = string_key(table, "slab_mode", true);
  if (!mode.ok()) return std::move(mode).error();
  if (mode.value() == "telescopic") {
    tariff.slab_mode = SlabMode::kTelescopic;
  } else if (mode.value() == "volumetric") {
    tariff.slab_mode = SlabMode::kVolumetric;
  } else {
    return error(line_of(*table.get("slab_mode")), "slab_mode", mode.value(),
                 "must be \"telescopic\" or \"volumetric\"");
  }

  const toml::node* slabs = table.get("slabs");
  if (slabs == nullptr) return error(line_of(table), "slabs", "", "missing: every [[tariff]] needs slabs");
  if (auto read = read_slabs(*slabs, tariff); !read.ok()) return std::move(read).error();

  const toml::node* fixed = table.get("fixed_charge");
  if (fixed == nullptr) {
    return error(line_of(table), "fixed_charge", "", "missing: every [[tariff]] needs fixed_charge (0 for none)");
  }
  auto fixed_minor = scaled_number(*fixed, "fixed_charge", tariff.minor_digits,
                                   tariff.currency + " has " + std::to_string(tariff.minor_digits) + " decimals");
  if (!fixed_minor.ok()) return std::move(fixed_minor).error();
  if (fixed_minor.value() < 0 || fixed_minor.value() > kMaxFixedChargeMajor * power_of_ten(tariff.minor_digits)) {
    return error(line_of(*fixed), "fixed_charge", number_text(*fixed, "fixed_charge").value(),
                 "must be between 0 and " + std::to_string(kMaxFixedChargeMajor));
  }
  tariff.fixed_charge_minor = fixed_minor.value();

  const toml::node* tax = table.get("tax_percent");
  if (tax == nullptr) {
    return error(line_of(table), "tax_percent", "", "missing: every [[tariff]] needs tax_percent (0 for none)");
  }
  auto tax_value = scaled_number(*tax, "tax_percent", kTaxDecimals, "tax is kept to 1e-4 %");
  if (!tax_value.ok()) return std::move(tax_value).error();
  if (tax_value.value() < 0 || tax_value.value() > kMaxTaxPercent * power_of_ten(kTaxDecimals)) {
    return error(line_of(*tax), "tax_percent", number_text(*tax, "tax_percent").value(),
                 "must be between 0 and " + std::to_string(kMaxTaxPercent));
  }
  tariff.tax_percent = tax_value.value();

  if (const toml::node* tod = table.get("tod")) {
    if (auto read = read_tod(*tod, tariff); !read.ok()) return std::move(read).error();
  }
  if (const toml::node* from = table.get("effective_from")) {
    if (auto read = read_effective_from(*from, tariff); !read.ok()) return std::move(read).error();
  }
  return tariff;
}

// Versions of one id must line up (same currency, cycle and zone) and start on distinct dates.
Expected<void> check_versions(const std::vector<Tariff>& tariffs, const TariffReader& reader) {
  for (size_t i = 0; i < tariffs.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const Tariff& earlier = tariffs[j];
      const Tariff& later = tariffs[i];
      if (earlier.id != later.id) continue;
      const std::string with = " as its version at line " + std::to_string(earlier.line) +
                               " (versions of one tariff share it, so their cycles line up)";
      if (earlier.currency != later.currency) {
        return reader.error(later.line, "currency", later.currency,
                            "tariff " + later.id + " must keep currency " + earlier.currency + with);
      }
      if (earlier.cycle != later.cycle) {
        return reader.error(later.line, "cycle", std::string(cycle_kind_name(later.cycle)),
                            "tariff " + later.id + " must keep cycle " + std::string(cycle_kind_name(earlier.cycle)) +
                                with);
      }
      if (earlier.utc_offset_s != later.utc_offset_s) {
        return reader.error(later.line, "time_zone", format_utc_offset(later.utc_offset_s),
                            "tariff " + later.id + " must keep time_zone " + format_utc_offset(earlier.utc_offset_s) +
                                with);
      }
      if (earlier.effective_from == later.effective_from) {
        return reader.error(later.line, "effective_from", later.effective_from,
                            earlier.effective_from.empty()
                                ? "tariff " + later.id + " already has a first version (line " +
                                      std::to_string(earlier.line) + "); a later version needs effective_from"
                                : "tariff " + later.id + " already has a version effective from this date (line " +
                                      std::to_string(earlier.line) + ")");
      }
    }
  }
  return {};
}

}  // namespace

Expected<TariffBook> parse_tariffs(std::string_view toml_text, const std::string& source, TariffText kind) {
  const TariffReader reader(toml_text, source);
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(source));
  } catch (const toml::parse_error& e) {
    // toml++ reports syntax errors only by exception; this is where they become an Error.
    return reader.error(static_cast<int64_t>(e.source().begin.line), "", "", std::string(e.description()));
  }
  for (const auto& [key, value] : root) {
    if (key.str() != "tariff" && kind == TariffText::kTariffFile) {
      return reader.error(line_of(value), std::string(key.str()), describe(value),
                          "unknown key: a tariff file holds [[tariff]] tables only");
    }
  }
  const toml::node* list = root.get("tariff");
  if (list == nullptr && kind == TariffText::kAmongOtherTables) return TariffBook{};
  if (list == nullptr) return reader.error(0, "tariff", "", "no [[tariff]] table");
  const auto* array = list->as_array();
  if (array == nullptr || !array->is_array_of_tables() || array->empty()) {
    return reader.error(line_of(*list), "tariff", describe(*list), "must be tables: write each one as [[tariff]]");
  }
  std::vector<Tariff> tariffs;
  for (const toml::node& element : *array) {
    auto tariff = reader.read_tariff(*element.as_table());
    if (!tariff.ok()) return std::move(tariff).error();
    tariffs.push_back(std::move(tariff).value());
  }
  if (auto checked = check_versions(tariffs, reader); !checked.ok()) return std::move(checked).error();

  // By id in the order each first appears, then by effective_from (the first version, without one, first).
  std::vector<std::string> order;
  for (const Tariff& t : tariffs) {
    if (std::find(order.begin(), order.end(), t.id) == order.end()) order.push_back(t.id);
  }
  const auto rank = [&order](const Tariff& t) { return std::find(order.begin(), order.end(), t.id) - order.begin(); };
  std::stable_sort(tariffs.begin(), tariffs.end(), [&rank](const Tariff& a, const Tariff& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    return a.effective_from_s.value_or(INT64_MIN) < b.effective_from_s.value_or(INT64_MIN);
  });
  TariffBook book;
  book.versions = std::move(tariffs);
  return book;
}

Expected<TariffBook> read_tariff_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io("cannot open the tariff file").at(path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error::io("cannot read the tariff file").at(path);
  return parse_tariffs(text.str(), path);
}

}  // namespace wattguard::billing
