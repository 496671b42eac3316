// Tests of static file serving: MIME types, caching, ETags, SPA fallback, path safety.
#include "wattguard/api/static_files.h"

#include <gtest/gtest.h>

#include <fstream>

#include "wattguard/test_support/temp_dir.h"

namespace wattguard::api {
using test_support::TempDir;
namespace {

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

HttpRequest get(const std::string& path) {
  HttpRequest r;
  r.method = "GET";
  r.target = path;
  return r;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir_.path() / "web/index.html", "<!doctype html><title>wattguard</title>");
    write_file(dir_.path() / "web/assets/app-1a2b.js", "console.log(1)");
    write_file(dir_.path() / "web/assets/style.css", "body{}");
    write_file(dir_.path() / "web/icon.svg", "<svg/>");
    write_file(dir_.path() / "secret.txt", "do not serve");
  }
  TempDir dir_;
  StaticFiles files_{(dir_.path() / "web").string()};
};

TEST_F(StaticFilesTest, ServesIndexWithHtmlTypeAndNoCache) {
  const auto r = files_.serve(get("/"), "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<!doctype html><title>wattguard</title>");
  EXPECT_EQ(*r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(*r.header("cache-control"), "no-cache");
  EXPECT_NE(r.header("content-security-policy"), nullptr);
}

TEST_F(StaticFilesTest, AssetsGetTheirTypeAndLongCaching) {
  const auto js = files_.serve(get("/assets/app-1a2b.js"), "/assets/app-1a2b.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(*js.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(*js.header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(*files_.serve(get("/assets/style.css"), "/assets/style.css").header("content-type"),
            "text/css; charset=utf-8");
  EXPECT_EQ(*files_.serve(get("/icon.svg"), "/icon.svg").header("content-type"), "image/svg+xml");
}

TEST_F(StaticFilesTest, SpaFallbackForRoutesButNotForMissingAssets) {
  const auto route = files_.serve(get("/meters/m-17"), "/meters/m-17");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, "<!doctype html><title>wattguard</title>");
  EXPECT_EQ(files_.serve(get("/assets/missing.js"), "/assets/missing.js").status, 404);
  // A navigation to a route with a dot still gets the app when the browser asks for HTML.
  HttpRequest nav = get("/meters/m.1");
  nav.set_header("accept", "text/html,application/xhtml+xml");
  EXPECT_EQ(files_.serve(nav, "/meters/m.1").status, 200);
}

TEST_F(StaticFilesTest, RefusesEscapesAndHiddenFiles) {
  EXPECT_EQ(files_.serve(get("/../secret.txt"), "/../secret.txt").status, 404);
  EXPECT_EQ(files_.serve(get("/assets/../../secret.txt"), "/assets/../../secret.txt").status, 404);
  write_file(dir_.path() / "web/.env", "KEY=1");
  EXPECT_EQ(files_.serve(get("/.env"), "/.env").status, 404);
  std::filesystem::create_symlink(dir_.path() / "secret.txt", dir_.path() / "web/link.txt");
  EXPECT_EQ(files_.serve(get("/link.txt"), "/link.txt").status, 404);
}

TEST_F(StaticFilesTest, EtagGivesNotModified) {
  const auto first = files_.serve(get("/icon.svg"), "/icon.svg");
  ASSERT_NE(first.header("etag"), nullptr);
  HttpRequest again = get("/icon.svg");
  again.set_header("if-none-match", *first.header("etag"));
  const auto second = files_.serve(again, "/icon.svg");
  EXPECT_EQ(second.status, 304);
  EXPECT_TRUE(second.body.empty());
}

TEST_F(StaticFilesTest, HeadHasLengthButNoBodyAndPostIsRefused) {
  HttpRequest head = get("/icon.svg");
  head.method = "HEAD";
  const auto r = files_.serve(head, "/icon.svg");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(*r.header("content-length"), "6");
  HttpRequest post = get("/");
  post.method = "POST";
  EXPECT_EQ(files_.serve(post, "/").status, 405);
}

TEST(StaticFilesMissing, ExplainsThatTheUiIsNotBuilt) {
  StaticFiles files("/nonexistent/web/dist");
  const auto r = files.serve(get("/"), "/");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("not built"), std::string::npos);
}

TEST(MimeTypes, KnownAndUnknown) {
  EXPECT_EQ(mime_type_for("woff2"), "font/woff2");
  EXPECT_EQ(mime_type_for("PNG"), "image/png");
  EXPECT_EQ(mime_type_for("json"), "application/json");
  EXPECT_EQ(mime_type_for("xyz"), "application/octet-stream");
}

}  // namespace
}  // namespace wattguard::api
