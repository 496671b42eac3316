// The Blynk hardware protocol's frames: the 5-byte header, the NUL-separated body, and the reassembly of
// frames that TCP split or coalesced. Pure code, no I/O. Wire facts: docs/bring-your-own-meter.md (Blynk) and
// the protocol summary it links. Thread safety: FrameReader is a value owned by one connection; the free
// functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::blynk {

// Command codes (the first header byte) as the Blynk library names them.
enum class Command : uint8_t {
  kResponse = 0,       // a reply; the length field carries the status and there is no body
  kLogin = 2,          // token login, library versions up to 0.6.0
  kPing = 6,           // heartbeat, answered with kResponse 200
  kBridge = 15,        // device-to-device writes
  kHardwareSync = 16,  // syncAll() (empty body) / syncVirtual (`vr` NUL pins...)
  kInternal = 17,      // the info message after login (key NUL value pairs)
  kProperty = 19,      // widget properties
  kHardware = 20,      // pin operations: `vw`, `vr`, `dw`, `aw`...
  kGroup = 21,         // beginGroup (`b`, or `t` NUL ms) / endGroup (`e`)
  kHwLogin = 29,       // token login, library 0.6.1 and later (1.x)
  kRedirect = 41,
  kDebugPrint = 55,
  kEventLog = 64,
  kEventClear = 65,
};

// Status codes carried by kResponse in the length field.
enum class Status : uint16_t {
  kSuccess = 200,
  kQuotaLimit = 1,
  kIllegalCommand = 2,
  kNotAuthenticated = 5,
  kInvalidToken = 9,
  kIllegalCommandBody = 11,
  kServerException = 19,
};

inline constexpr std::size_t kHeaderBytes = 5;
// Largest incoming body accepted: the library itself never sends more than its 128-byte send buffer (256 when
// raised), so a few KiB leaves room for any sketch while bounding what a connection can make us hold.
inline constexpr std::size_t kMaxBodyBytes = 4096;
// Largest frame we send: the library refuses to read a body over BLYNK_MAX_READBYTES (256 by default).
inline constexpr std::size_t kMaxOutgoingFrameBytes = 256;

struct Frame {
  uint8_t command = 0;
  uint16_t id = 0;      // message id, 1..65535
  uint16_t status = 0;  // kResponse only: the status code (no body)
  std::string body;     // every other command: the body bytes (NUL-separated fields)
};

// A header plus body. REQUIRES: body.size() <= 65535.
std::string encode_frame(Command command, uint16_t id, std::string_view body);
// A kResponse carrying `status` for message `id`.
std::string encode_response(uint16_t id, Status status);

// The fields of a body: split at every NUL. An empty body has no fields; a trailing NUL gives an empty last field.
std::vector<std::string_view> split_fields(std::string_view body);
// Fields joined with single NULs, no trailing NUL (as the library sends them).
std::string join_fields(const std::vector<std::string_view>& fields);

// Why a byte stream stopped being a Blynk stream. After one of these the connection cannot be resynchronised
// reliably and is closed.
enum class FrameFault : uint8_t {
  kTooLarge,  // "too_large": a body length over the cap
  kZeroId,    // "zero_id": message id 0, which the protocol never uses
};
const char* frame_fault_name(FrameFault fault);

// Collects bytes from the socket and hands out whole frames in order.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_body_bytes = kMaxBodyBytes) : max_body_(max_body_bytes) {}

  void append(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, nullopt when more bytes are needed, or the fault that ends the stream (the reader
  // then answers the same fault on every later call). The fault's frame id is in fault_id().
  Expected<std::optional<Frame>> next();
  std::optional<FrameFault> fault() const { return fault_; }
  uint16_t fault_id() const { return fault_id_; }
  std::size_t buffered() const { return buffer_.size() - offset_; }

 private:
  std::size_t max_body_;
  std::string buffer_;
  std::size_t offset_ = 0;  // bytes of buffer_ already handed out
  std::optional<FrameFault> fault_;
  uint16_t fault_id_ = 0;
};

}  // namespace wattguard::blynk
