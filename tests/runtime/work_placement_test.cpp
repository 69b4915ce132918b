#include <map>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/work_placement.hpp"

namespace batching {
namespace {

using chunk = work_placement::chunk;

TEST(work_placement, one_node_takes_a_job_whole) {
  work_placement p{100};
  p.add_node(1, {"write"});
  p.add_job(7, "write", 1000);
  EXPECT_EQ(p.place(7), (std::vector<chunk>{{1, 7, 0, 1000}}));
  EXPECT_EQ(p.outstanding(1), 1000u);
  EXPECT_TRUE(p.place(7).empty()); // nothing left to place
}

TEST(work_placement, a_job_is_cut_over_the_nodes_of_its_type) {
  work_placement p{100};
  p.add_node(1, {"write"});
  p.add_node(2, {"write", "read"});
  p.add_node(3, {"read"});
  p.add_job(1, "write", 1000);
  EXPECT_EQ(p.place(1), (std::vector<chunk>{{1, 1, 0, 500}, {2, 1, 500, 500}}));
  // A small job is not fanned out below the minimum chunk.
  p.add_job(2, "read", 150);
  EXPECT_EQ(p.place(2), (std::vector<chunk>{{3, 2, 0, 150}}));
  // The least loaded node gets the next job.
  p.add_job(3, "read", 50);
  EXPECT_EQ(p.place(3), (std::vector<chunk>{{3, 3, 0, 50}}));
}

TEST(work_placement, a_lost_node_gives_back_what_it_had_not_finished) {
  work_placement p{1};
  p.add_node(1, {"write"});
  p.add_node(2, {"write"});
  p.add_job(5, "write", 4);
  ASSERT_EQ(p.place(5), (std::vector<chunk>{{1, 5, 0, 2}, {2, 5, 2, 2}}));
  EXPECT_TRUE(p.finish(2, {5, 2}));
  EXPECT_FALSE(p.finish(1, {5, 3})); // not its holder
  auto back = p.lose(2);
  EXPECT_EQ(back, (std::vector<op_ref>{{5, 3}}));
  EXPECT_FALSE(p.live(2));
  // Its late report is stale now.
  EXPECT_FALSE(p.holds(2, {5, 3}));
  EXPECT_FALSE(p.finish(2, {5, 3}));
  EXPECT_EQ(p.place_all(), (std::vector<chunk>{{1, 5, 3, 1}}));
  EXPECT_TRUE(p.finish(1, {5, 3}));
  EXPECT_EQ(p.outstanding(1), 2u);
}

TEST(work_placement, a_restarted_batcher_gives_back_only_its_type) {
  work_placement p{1000};
  p.add_node(1, {"read", "write"});
  p.add_job(1, "write", 3);
  p.add_job(2, "read", 2);
  p.place_all();
  EXPECT_TRUE(p.finish(1, {1, 0}));
  EXPECT_EQ(p.lose(1, "write"), (std::vector<op_ref>{{1, 1}, {1, 2}}));
  EXPECT_TRUE(p.lose(1, "write").empty()); // once
  EXPECT_TRUE(p.live(1));
  EXPECT_EQ(p.outstanding(1), 2u); // the reads
  EXPECT_TRUE(p.holds(1, {2, 1}));
  EXPECT_FALSE(p.holds(1, {1, 1}));
  // Parked until the node serves writes again.
  p.add_job(3, "write", 1);
  EXPECT_TRUE(p.place(3).empty());
  p.add_node(1, {"write"});
  EXPECT_EQ(p.place_all(), (std::vector<chunk>{{1, 1, 1, 2}, {1, 3, 0, 1}}));
  EXPECT_EQ(p.outstanding(1), 5u);
}

TEST(work_placement, without_a_serving_node_work_is_parked) {
  work_placement p{10};
  p.add_job(1, "write", 30);
  EXPECT_TRUE(p.place(1).empty());
  p.add_node(4, {"read"});
  EXPECT_TRUE(p.place_all().empty());
  p.add_node(9, {"write"});
  EXPECT_EQ(p.place_all(), (std::vector<chunk>{{9, 1, 0, 30}}));
}

TEST(work_placement, parked_operations_of_a_cancelled_job_are_taken) {
  work_placement p;
  p.add_job(3, "write", 3);
  EXPECT_EQ(p.take_unplaced(3), (std::vector<std::uint64_t>{0, 1, 2}));
  p.add_node(1, {"write"});
  EXPECT_TRUE(p.place_all().empty());
}

TEST(work_placement, forgetting_a_job_releases_its_load) {
  work_placement p;
  p.add_node(1, {"write"});
  p.add_job(3, "write", 30);
  p.place(3);
  p.forget(3);
  EXPECT_EQ(p.outstanding(1), 0u);
  EXPECT_FALSE(p.holds(1, {3, 0}));
}

// Random joins, losses, placements and reports: every operation ends done
// exactly once (only its holder's report counts), and the nodes' loads
// always equal what they hold.
RC_GTEST_PROP(work_placement, every_operation_finishes_exactly_once, ()) {
  work_placement p{*rc::gen::inRange<std::uint64_t>(1, 50)};
  std::map<std::uint64_t, std::vector<int>> finished; // per job, per index
  std::map<std::uint64_t, std::vector<work_placement::node_id>> holder;
  std::vector<work_placement::node_id> live;
  work_placement::node_id next_node = 1;
  std::uint64_t next_job = 1;
  auto apply = [&](const std::vector<chunk>& placed) {
    for (const auto& c : placed) {
      RC_ASSERT(p.live(c.node));
      for (auto i = c.first; i < c.first + c.count; ++i) {
        RC_ASSERT(holder[c.job_id][i] == 0u); // placed once at a time
        holder[c.job_id][i] = c.node;
      }
    }
  };
  auto steps = *rc::gen::inRange(20, 200);
  for (int s = 0; s < steps; ++s) {
    switch (*rc::gen::inRange(0, 5)) {
      case 0:
        p.add_node(next_node, {"t"});
        live.push_back(next_node++);
        apply(p.place_all());
        break;
      case 1:
        if (!live.empty()) {
          auto at = *rc::gen::inRange<std::size_t>(0, live.size());
          auto lost = live[at];
          live.erase(live.begin() + static_cast<std::ptrdiff_t>(at));
          for (const auto& ref : p.lose(lost)) {
            RC_ASSERT(holder[ref.job_id][ref.index] == lost);
            RC_ASSERT(finished[ref.job_id][ref.index] == 0);
            holder[ref.job_id][ref.index] = 0;
          }
          apply(p.place_all());
        }
        break;
      case 2: {
        auto n = *rc::gen::inRange<std::uint64_t>(1, 300);
        p.add_job(next_job, "t", n);
        finished[next_job].assign(n, 0);
        holder[next_job].assign(n, 0);
        apply(p.place(next_job++));
        break;
      }
      default:
        // Some node (live or not) reports some operation finished.
        if (next_job > 1 && next_node > 1) {
          auto job = *rc::gen::inRange<std::uint64_t>(1, next_job);
          auto idx = *rc::gen::inRange<std::size_t>(0, finished[job].size());
          auto node = *rc::gen::inRange<work_placement::node_id>(1, next_node);
          bool counted = p.finish(node, {job, idx});
          RC_ASSERT(counted
                    == (holder[job][idx] == node && finished[job][idx] == 0));
          if (counted)
            ++finished[job][idx];
        }
    }
    for (auto node : live) {
      std::uint64_t held = 0;
      for (auto& [job, hs] : holder)
        for (std::size_t i = 0; i < hs.size(); ++i)
          held += hs[i] == node && finished[job][i] == 0;
      RC_ASSERT(p.outstanding(node) == held);
    }
  }
  // Finish everything through the holders: nothing is left or doubled.
  if (live.empty()) {
    p.add_node(next_node, {"t"});
    live.push_back(next_node);
    apply(p.place_all());
  }
  for (auto& [job, hs] : holder)
    for (std::size_t i = 0; i < hs.size(); ++i)
      if (finished[job][i] == 0) {
        RC_ASSERT(p.finish(hs[i], {job, i}));
        ++finished[job][i];
      }
  for (auto& [job, fs] : finished)
    for (auto f : fs)
      RC_ASSERT(f == 1);
}

} // namespace
} // namespace batching
