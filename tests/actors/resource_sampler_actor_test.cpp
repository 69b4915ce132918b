// The resource sampler broadcasts a snapshot per period and alerts after
// their sustained duration; the Linux probe reads /proc-format files.

#include <filesystem>
#include <fstream>

#include "actors/resource_sampler_actor.hpp"

#include "tests/actors/actor_fixture.hpp"

using namespace batching;
using namespace batching::testing_support;
using namespace std::chrono_literals;

namespace {

using collector_actor = resource_listener::extend<caf::replies_to<
  caf::get_atom>::with<std::uint64_t, std::vector<resource_alert>>>;

struct collector_state {
  std::uint64_t snapshots = 0;
  std::vector<resource_alert> alerts;
};

collector_actor::behavior_type
collector_impl(collector_actor::stateful_pointer<collector_state> self) {
  return {
    [=](const resource_snapshot&) { ++self->state.snapshots; },
    [=](const resource_alert& a) { self->state.alerts.push_back(a); },
    [=](caf::get_atom) {
      return caf::make_result(self->state.snapshots, self->state.alerts);
    },
  };
}

class sampler_test : public actor_fixture {
protected:
  std::shared_ptr<double> cpu = std::make_shared<double>(10);
  resource_sampler_actor sampler;
  collector_actor collector;

  void start() {
    sampler_config cfg;
    cfg.thresholds.cpu = {70, 85, 3};
    cfg.sampling.interval_seconds = 1;
    auto c = cpu;
    sampler = track(
      spawn_resource_sampler(sys, cfg, make_scripted_probe([c](time_point) {
                               resource_snapshot s;
                               s.cpu_percent = *c;
                               return s;
                             })));
    collector = track(sys.spawn(collector_impl));
    caf::anon_send(sampler, caf::subscribe_atom::value,
                   resource_listener{collector});
    sched.run();
  }

  std::pair<std::uint64_t, std::vector<resource_alert>> collected() {
    std::pair<std::uint64_t, std::vector<resource_alert>> result;
    caf::scoped_actor self{sys};
    auto rh = self->request(collector, caf::infinite, caf::get_atom::value);
    sched.run();
    rh.receive(
      [&](std::uint64_t n, std::vector<resource_alert>& a) {
        result = {n, a};
      },
      [](caf::error&) {});
    return result;
  }
};

} // namespace

TEST_F(sampler_test, broadcasts_snapshots_and_sustained_alerts) {
  start();
  advance(5s);
  EXPECT_EQ(collected().first, 5u);
  EXPECT_TRUE(collected().second.empty());
  *cpu = 90;
  advance(3s); // readings at 6, 7, 8 s: 2 s sustained, not yet 3
  EXPECT_TRUE(collected().second.empty());
  advance(1s);
  auto alerts = collected().second;
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].level, alert_level::critical);
  auto active = ask<std::vector<resource_alert>>(sampler, alerts_atom::value);
  ASSERT_TRUE(active);
  EXPECT_EQ(active->size(), 1u);
  auto latest = ask<resource_snapshot>(sampler, caf::get_atom::value);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->cpu_percent, 90);
  auto recs = ask<std::vector<recommendation>>(sampler, recommend_atom::value);
  ASSERT_TRUE(recs);
  ASSERT_FALSE(recs->empty());
  EXPECT_EQ(recs->front().type, "reduce_batch_size");
  auto trends = ask<resource_trends>(sampler, trends_atom::value);
  ASSERT_TRUE(trends);
  EXPECT_EQ(trends->cpu, trend::increasing);
}

TEST_F(sampler_test, unsubscribed_listeners_get_nothing_more) {
  start();
  advance(2s);
  caf::anon_send(sampler, caf::unsubscribe_atom::value,
                 resource_listener{collector});
  advance(3s);
  EXPECT_EQ(collected().first, 2u);
}

TEST(linux_probe, reads_proc_format_files) {
  namespace fs = std::filesystem;
  auto root = fs::temp_directory_path() / "batching_proc_test";
  fs::create_directories(root / "net");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream{root / name} << text;
  };
  auto fill = [&](int busy, int idle, long rx, long sectors, long io_ms) {
    write("stat", "cpu  " + std::to_string(busy) + " 0 0 "
                    + std::to_string(idle) + " 0 0 0 0 0 0\n");
    write("meminfo", "MemTotal: 1000 kB\nMemFree: 100 kB\n"
                     "MemAvailable: 250 kB\n");
    write("net/dev", "Inter-|   Receive\n face |bytes\n"
                     "    lo: 999 0 0 0 0 0 0 0 999 0 0 0 0 0 0 0\n"
                     "  eth0: "
                       + std::to_string(rx)
                       + " 0 0 0 0 0 0 0 500 0 0 0 0 0 0 0\n");
    write("diskstats", "   8       0 sda 0 0 " + std::to_string(sectors)
                         + " 0 0 0 0 0 0 " + std::to_string(io_ms)
                         + " 0\n"
                           "   8       1 sda1 0 0 99999 0 0 0 0 0 0 99999 0\n");
    write("loadavg", "0.50 0.40 0.30 1/100 1\n");
  };
  auto probe = make_linux_probe(root.string());
  fill(100, 100, 1000, 0, 0);
  auto t0 = time_point{} + 10s;
  auto first = probe->read(t0);
  EXPECT_DOUBLE_EQ(first.memory_percent, 75.0);
  EXPECT_DOUBLE_EQ(first.load_average_1m, 0.5);
  EXPECT_EQ(first.cpu_percent, 0); // rates need two readings
  fill(250, 150, 3000, 4, 500);
  auto second = probe->read(t0 + 2s);
  EXPECT_DOUBLE_EQ(second.cpu_percent, 75.0);             // 150 of 200 ticks
  EXPECT_DOUBLE_EQ(second.net_rx_bytes_per_s, 1000.0);    // lo excluded
  EXPECT_DOUBLE_EQ(second.disk_read_bytes_per_s, 1024.0); // partition skipped
  EXPECT_DOUBLE_EQ(second.disk_busy_percent, 25.0);
  fs::remove_all(root);
}
