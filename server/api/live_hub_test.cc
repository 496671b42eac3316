// Tests of the live fan-out: filtering, dropping full clients, forgetting closed ones.
#include "wattguard/api/live_hub.h"

#include <gtest/gtest.h>

#include <vector>

namespace wattguard::api {
namespace {

// A sink with a fixed capacity that records what it got.
class RecordingSink : public LiveSink {
 public:
  explicit RecordingSink(std::size_t capacity) : capacity_(capacity) {}
  OfferResult offer(const std::shared_ptr<const std::string>& message) override {
    if (closed) return OfferResult::kClosed;
    if (received.size() >= capacity_) return OfferResult::kOverflow;
    received.push_back(*message);
    return OfferResult::kQueued;
  }
  std::vector<std::string> received;
  bool closed = false;

 private:
  std::size_t capacity_;
};

std::shared_ptr<const std::string> msg(const std::string& s) { return std::make_shared<const std::string>(s); }

TEST(LiveHub, DeliversToAllOrFilteredMeters) {
  LiveHub hub;
  auto all = std::make_shared<RecordingSink>(100);
  auto only_m2 = std::make_shared<RecordingSink>(100);
  hub.subscribe(all, std::nullopt);
  hub.subscribe(only_m2, LiveHub::MeterSet{"m2"});
  hub.publish("m1", msg("a"));
  hub.publish("m2", msg("b"));
  EXPECT_EQ(all->received, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(only_m2->received, (std::vector<std::string>{"b"}));
  const auto st = hub.stats();
  EXPECT_EQ(st.clients, 2u);
  EXPECT_EQ(st.published, 2u);
  EXPECT_EQ(st.delivered, 3u);
}

TEST(LiveHub, FullClientIsDroppedOthersContinue) {
  LiveHub hub;
  auto slow = std::make_shared<RecordingSink>(2);
  auto fast = std::make_shared<RecordingSink>(100);
  hub.subscribe(slow, std::nullopt);
  hub.subscribe(fast, std::nullopt);
  for (int i = 0; i < 5; ++i) hub.publish("m", msg(std::to_string(i)));
  EXPECT_EQ(slow->received.size(), 2u);
  EXPECT_EQ(fast->received.size(), 5u);
  const auto st = hub.stats();
  EXPECT_EQ(st.clients, 1u);
  EXPECT_EQ(st.dropped_clients, 1u);
}

TEST(LiveHub, ClosedAndDestroyedSinksAreForgotten) {
  LiveHub hub;
  auto closed = std::make_shared<RecordingSink>(10);
  auto gone = std::make_shared<RecordingSink>(10);
  hub.subscribe(closed, std::nullopt);
  hub.subscribe(gone, std::nullopt);
  closed->closed = true;
  gone.reset();
  hub.publish("m", msg("x"));
  const auto st = hub.stats();
  EXPECT_EQ(st.clients, 0u);
  EXPECT_EQ(st.dropped_clients, 0u);
}

TEST(LiveHub, UnsubscribeStopsDelivery) {
  LiveHub hub;
  auto sink = std::make_shared<RecordingSink>(10);
  const auto id = hub.subscribe(sink, std::nullopt);
  hub.unsubscribe(id);
  hub.publish("m", msg("x"));
  EXPECT_TRUE(sink->received.empty());
}

}  // namespace
}  // namespace wattguard::api
