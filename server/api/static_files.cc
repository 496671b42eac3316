// Static file serving for the web UI.
#include "wattguard/api/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "wattguard/api/request_target.h"

namespace wattguard::api {
namespace {

namespace fs = std::filesystem;

// Vite puts content-hashed bundles under /assets/: safe to cache for a year.
constexpr std::string_view kImmutablePrefix = "/assets/";

bool safe_segment(const std::string& seg) {
  if (seg.empty() || seg[0] == '.') return false;  // "..", ".", and hidden files
  return seg.find('\\') == std::string::npos;
}

HttpResponse text_response(int status, std::string text) {
  HttpResponse res;
  res.status = status;
  res.set_header("Content-Type", "text/plain; charset=utf-8");
  res.body = std::move(text);
  return res;
}

}  // namespace

std::string_view mime_type_for(std::string_view ext) {
  struct Entry {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr Entry kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"txt", "text/plain; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
      {"wasm", "application/wasm"},
  };
  const std::string lower = ascii_lower(ext);
  for (const auto& e : kTypes) {
    if (e.ext == lower) return e.type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(std::string root_dir) : root_(std::move(root_dir)) {}

HttpResponse StaticFiles::file_response(const HttpRequest& request, const std::string& file, bool immutable) const {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return text_response(404, "not found\n");
  if (size > kMaxFileBytes) return text_response(500, "file too large to serve\n");
  const auto mtime = fs::last_write_time(file, ec);
  // A weak validator from size and modification time: changes whenever the build rewrites the file.
  std::ostringstream etag;
  etag << "W/\"" << std::hex << size << '-' << mtime.time_since_epoch().count() << '"';

  HttpResponse res;
  res.set_header("ETag", etag.str());
  res.set_header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  const std::string ext = fs::path(file).extension().string();
  res.set_header("Content-Type", std::string(mime_type_for(ext.empty() ? "" : ext.substr(1))));
  if (ext == ".html") {
    // The UI talks only to its own origin; nothing is fetched from elsewhere.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                   "frame-ancestors 'none'; base-uri 'self'; form-action 'self'");
  }
  if (const std::string* inm = request.header("if-none-match"); inm != nullptr && *inm == etag.str()) {
    res.status = 304;
    return res;
  }
  if (request.method == "HEAD") {
    res.set_header("Content-Length", std::to_string(size));
    return res;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return text_response(404, "not found\n");
  std::ostringstream body;
  body << in.rdbuf();
  res.body = body.str();
  return res;
}

HttpResponse StaticFiles::serve(const HttpRequest& request, const std::string& path) const {
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse res = text_response(405, "method not allowed\n");
    res.set_header("Allow", "GET, HEAD");
    return res;
  }
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(root_, ec);
  if (ec || !fs::is_regular_file(root / "index.html", ec)) {
    return text_response(404, "The web UI is not built: no index.html in " + root_ +
                                  " (build it with npm in web/, or set http.static_dir).\n");
  }

  const std::vector<std::string> segments = path_segments(path);
  fs::path file = root;
  for (const auto& seg : segments) {
    if (!safe_segment(seg)) return text_response(404, "not found\n");
    file /= seg;
  }
  if (segments.empty() || fs::is_directory(file, ec)) file /= "index.html";

  // Symbolic links must not lead out of the root.
  const fs::path real = fs::weakly_canonical(file, ec);
  const std::string real_s = real.string();
  const std::string root_s = root.string();
  const bool inside = !ec && real_s.size() > root_s.size() && real_s.compare(0, root_s.size(), root_s) == 0 &&
                      real_s[root_s.size()] == '/';
  if (inside && fs::is_regular_file(real, ec)) {
    const bool immutable = path.compare(0, kImmutablePrefix.size(), kImmutablePrefix) == 0;
    return file_response(request, real_s, immutable);
  }
  // Single-page app: a client-side route such as /meters/m-17 has no extension; give it the
  // app shell. A missing asset (/assets/x.js) stays a 404 so errors are not masked.
  // A browser navigation (Accept: text/html) gets it too, even when the route has a dot.
  const std::string last = segments.empty() ? std::string() : segments.back();
  const std::string* accept = request.header("accept");
  const bool wants_html = accept != nullptr && accept->find("text/html") != std::string::npos;
  if (last.find('.') == std::string::npos || wants_html) {
    return file_response(request, (root / "index.html").string(), false);
  }
  return text_response(404, "not found\n");
}

}  // namespace wattguard::api
