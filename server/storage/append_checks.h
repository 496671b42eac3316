// The backend-neutral checks of append_readings: which readings are valid, and a register that went
// backwards between two readings of a meter (the register_rollback event). Shared by the backends.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

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

}  // namespace wattguard::storage
