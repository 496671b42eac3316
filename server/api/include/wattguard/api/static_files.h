// Serves the built web UI from a directory: MIME types, caching headers, ETags, and the
// single-page-app fallback (unknown paths without a file extension get index.html).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wattguard/api/http_message.h"

namespace wattguard::api {

class StaticFiles {
 public:
  // Files larger than this are refused (the UI's assets are far smaller).
  static constexpr std::uintmax_t kMaxFileBytes = 32u << 20;

  explicit StaticFiles(std::string root_dir);

  // Response to GET or HEAD of the decoded URL `path` ("/", "/assets/app-1a2b.js", "/meters/m1").
  HttpResponse serve(const HttpRequest& request, const std::string& path) const;

  const std::string& root() const { return root_; }

 private:
  HttpResponse file_response(const HttpRequest& request, const std::string& file, bool immutable) const;
  std::string root_;
};

// "text/html; charset=utf-8" for "html", ...; "application/octet-stream" when unknown.
std::string_view mime_type_for(std::string_view extension);

}  // namespace wattguard::api
