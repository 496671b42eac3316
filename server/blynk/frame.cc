// Blynk frame encoding and stream reassembly.
#include "wattguard/blynk/frame.h"

namespace wattguard::blynk {
namespace {

void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}

uint16_t get_u16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}

Error fault_error(FrameFault fault, uint16_t id, std::size_t length) {
  if (fault == FrameFault::kZeroId) {
    return Error::invalid("id", "0", "Blynk message id 0 is invalid").because(frame_fault_name(fault));
  }
  return Error::invalid("length", std::to_string(length),
                        "Blynk frame " + std::to_string(id) + " body over " + std::to_string(kMaxBodyBytes) + " bytes")
      .because(frame_fault_name(fault));
}

}  // namespace

std::string encode_frame(Command command, uint16_t id, std::string_view body) {
  std::string out;
  out.reserve(kHeaderBytes + body.size());
  out.push_back(static_cast<char>(command));
  put_u16(out, id);
  put_u16(out, static_cast<uint16_t>(body.size()));
  out.append(body);
  return out;
}

std::string encode_response(uint16_t id, Status status) {
  std::string out;
  out.reserve(kHeaderBytes);
  out.push_back(static_cast<char>(Command::kResponse));
  put_u16(out, id);
  put_u16(out, static_cast<uint16_t>(status));
  return out;
}

std::vector<std::string_view> split_fields(std::string_view body) {
  std::vector<std::string_view> fields;
  if (body.empty()) return fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t nul = body.find('\0', start);
    if (nul == std::string_view::npos) {
      fields.push_back(body.substr(start));
      return fields;
    }
    fields.push_back(body.substr(start, nul - start));
    start = nul + 1;
  }
}

std::string join_fields(const std::vector<std::string_view>& fields) {
  std::string out;
  for (std::size_t k = 0; k < fields.size(); ++k) {
    if (k > 0) out.push_back('\0');
    out.append(fields[k]);
  }
  return out;
}

const char* frame_fault_name(FrameFault fault) {
  switch (fault) {
    case FrameFault::kTooLarge: return "too_large";
    case FrameFault::kZeroId: return "zero_id";
  }
  return "unknown";
}

Expected<std::optional<Frame>> FrameReader::next() {
  if (fault_) return fault_error(*fault_, fault_id_, 0);
  const std::size_t available = buffer_.size() - offset_;
  if (available < kHeaderBytes) {
    // Keep the buffer from growing without bound across many small frames.
    if (offset_ > 0) {
      buffer_.erase(0, offset_);
      offset_ = 0;
    }
    return std::optional<Frame>{};
  }
  const char* head = buffer_.data() + offset_;
  Frame frame;
  frame.command = static_cast<uint8_t>(head[0]);
  frame.id = get_u16(head + 1);
  const uint16_t length = get_u16(head + 3);
  if (frame.id == 0) {
    fault_ = FrameFault::kZeroId;
    return fault_error(*fault_, 0, length);
  }
  if (frame.command == static_cast<uint8_t>(Command::kResponse)) {
    frame.status = length;
    offset_ += kHeaderBytes;
    return std::optional<Frame>(std::move(frame));
  }
  if (length > max_body_) {
    fault_ = FrameFault::kTooLarge;
    fault_id_ = frame.id;
    return fault_error(*fault_, frame.id, length);
  }
  if (available < kHeaderBytes + length) return std::optional<Frame>{};
  frame.body.assign(head + kHeaderBytes, length);
  offset_ += kHeaderBytes + length;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  return std::optional<Frame>(std::move(frame));
}

}  // namespace wattguard::blynk
