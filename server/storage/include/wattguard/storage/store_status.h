// Result of a storage call: ok, or a code plus a message naming what went wrong.
#pragma once

#include <string>
#include <utility>

#include "wattguard/base/expected.h"

namespace wattguard::storage {

enum class StoreCode {
  kOk,
  kNotFound,         // no such meter / command
  kAlreadyExists,    // meter or command id taken
  kInvalidArgument,  // bad parameter (from > to, step <= 0, too many points, bad id...)
  kIoError,          // the database could not be read or written (disk full, locked too long...)
  kCorruption,       // the file is not a wattguard database, or its schema is newer than this build
};

struct StoreStatus {
  StoreCode code = StoreCode::kOk;
  std::string message;

  static StoreStatus ok_status() { return {}; }
  static StoreStatus error(StoreCode code, std::string message) { return {code, std::move(message)}; }
  bool ok() const { return code == StoreCode::kOk; }
};

const char* store_code_name(StoreCode code);  // "ok", "not_found", ...

template <class T>
using StoreResult = Expected<T, StoreStatus>;

}  // namespace wattguard::storage
