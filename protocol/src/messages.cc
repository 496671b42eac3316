// Wire names of the protocol's enums (event kinds, edges, command kinds, relay states).
#include "wattguard/protocol/messages.h"

#include <array>
#include <utility>

namespace wattguard::protocol {
namespace {

template <class E, std::size_t kSize>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, kSize>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";
}

template <class E, std::size_t kSize>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, kSize>& table, std::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<EventKind, std::string_view>, kEventKindCount> kEventKinds = {{
    {EventKind::kReverseFlow, "reverse_flow"},
    {EventKind::kNeutralMismatch, "neutral_mismatch"},
    {EventKind::kCurrentWithoutVoltage, "current_without_voltage"},
    {EventKind::kMagnetic, "magnetic"},
    {EventKind::kCoverOpen, "cover_open"},
    {EventKind::kRegisterRollback, "register_rollback"},
    {EventKind::kPowerUp, "power_up"},
    {EventKind::kOutage, "outage"},
    {EventKind::kOverVoltage, "over_voltage"},
    {EventKind::kUnderVoltage, "under_voltage"},
    {EventKind::kRelayOpened, "relay_opened"},
    {EventKind::kRelayClosed, "relay_closed"},
    {EventKind::kCommLoss, "comm_loss"},
}};

constexpr std::array<std::pair<EventEdge, std::string_view>, 3> kEdges = {{
    {EventEdge::kOnset, "onset"},
    {EventEdge::kClear, "clear"},
    {EventEdge::kInstant, "instant"},
}};

constexpr std::array<std::pair<CommandKind, std::string_view>, 4> kCommandKinds = {{
    {CommandKind::kRelayOff, "relay_off"},
    {CommandKind::kRelayOn, "relay_on"},
    {CommandKind::kSetPeriod, "set_period"},
    {CommandKind::kPing, "ping"},
}};

constexpr std::array<std::pair<RelayState, std::string_view>, 3> kRelayStates = {{
    {RelayState::kUnknown, "unknown"},
    {RelayState::kOn, "on"},
    {RelayState::kOff, "off"},
}};

}  // namespace

std::string_view event_kind_name(EventKind kind) { return name_of(kEventKinds, kind); }
std::optional<EventKind> event_kind_from_name(std::string_view name) { return value_of(kEventKinds, name); }
bool is_server_only(EventKind kind) { return kind == EventKind::kCommLoss; }

std::string_view event_edge_name(EventEdge edge) { return name_of(kEdges, edge); }
std::optional<EventEdge> event_edge_from_name(std::string_view name) { return value_of(kEdges, name); }

std::string_view command_kind_name(CommandKind kind) { return name_of(kCommandKinds, kind); }
std::optional<CommandKind> command_kind_from_name(std::string_view name) { return value_of(kCommandKinds, name); }

std::string_view relay_state_name(RelayState state) { return name_of(kRelayStates, state); }
std::optional<RelayState> relay_state_from_name(std::string_view name) { return value_of(kRelayStates, name); }

}  // namespace wattguard::protocol
