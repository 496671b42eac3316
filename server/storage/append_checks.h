// The backend-neutral checks of append_readings: which readings are valid, and a register that went
// backwards between two readings of a meter (the register_rollback event). Shared by the backends.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/storage/store_types.h"

namespace wattguard::storage {

// The register_rollback event (at time_ms, the later reading's time) if the import or export register of
// the later reading (next_*) is lower than the earlier one's (prev_*), beyond float noise; nullopt otherwise.
std::optional<protocol::MeterEvent> register_rollback(uint64_t prev_seq, double prev_imp, double prev_exp,
                                                      uint64_t next_seq, double next_imp, double next_exp,
                                                      int64_t time_ms, const std::string& meter_id);

// Indices of the readings that pass protocol::validate (without the future check), ascending; the others
// are added to result->refused.
std::vector<uint32_t> valid_indices(std::span<const protocol::Reading> readings, AppendResult* result);

// Looks up each reading's meter key with key_of (returning Expected<int64_t>, kNotFound for a meter that is not
// provisioned) into *keys, by batch index; readings of unknown meters are refused (into result->refused) and
// dropped from *order. Consecutive readings of one meter share a lookup. Other errors of key_of are returned.
template <class KeyOf>
Expected<void> resolve_meter_keys(std::span<const protocol::Reading> readings, std::vector<uint32_t>* order,
                                  std::vector<int64_t>* keys, AppendResult* result, KeyOf&& key_of) {
  std::size_t kept = 0;
  const std::string* last_id = nullptr;
  int64_t last_key = -1;
  for (uint32_t i : *order) {
    const std::string& id = readings[i].meter_id;
    if (last_id == nullptr || *last_id != id) {
      auto k = key_of(id);
      if (!k.ok() && k.error().code != ErrorCode::kNotFound) return k.error();
      last_key = k.ok() ? k.value() : -1;
      last_id = &id;
    }
    if (last_key < 0) {
      result->refused.push_back({i, protocol::Rejection::kUnknownMeter, "meter " + id + " is not provisioned"});
      continue;
    }
    (*keys)[i] = last_key;
    (*order)[kept++] = i;
  }
  order->resize(kept);
  return {};
}

}  // namespace wattguard::storage
