// Look-up of a meter's series by id.
#include "wattguard/analytics/readings.h"

namespace wattguard::analytics {

const MeterSeries* Readings::find(std::string_view id) const {
  const auto it = index.find(std::string(id));
  return it == index.end() ? nullptr : &meters[it->second];
}

}  // namespace wattguard::analytics
