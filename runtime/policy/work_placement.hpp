#pragma once

// Work placement: which node's batcher holds each operation of a running
// job, so the coordinator can spread jobs over worker nodes and take the
// work of a lost node back (docs/deployment.md).
//
// Algorithm.
//   Nodes join with the operation types they serve (ids are the caller's,
//   nonzero). A started job is added with all its operations unplaced.
//   place(job): every run of consecutive unplaced operations [first, first +
//     count) is cut into k = min(live nodes serving the job's type,
//     max(1, floor(count / min_chunk))) near-equal contiguous chunks; each
//     chunk goes to the serving node with the fewest outstanding operations
//     (ties: the lowest id), which becomes their holder. Without a serving node
//     the run stays unplaced (parked) until place_all() after a node joins.
//   holds(node, op): only the holder's events may change the ledger; events
//     from a node declared lost (it froze and woke up, or its messages were
//     still in flight) are stale and dropped. That makes every operation's
//     terminal state in the ledger come from exactly one node.
//   finish(node, op): the holder's terminal report; the operation is done.
//   lose(node): the node is gone; every unfinished operation it held is
//     unplaced again and returned (for the ledger to requeue), to be placed
//     on the survivors by place_all().
//   lose(node, type): only the node's batcher of one type is gone (it is
//     restarted): the same for that type's operations; the node serves the
//     type again after add_node().
//   take_unplaced(job): parked operations of a cancelled job, now done.
// Invariants: every unfinished operation has at most one holder, and a
// node's outstanding count equals the unfinished operations it holds.
// Pure: no clock, no I/O.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/policy/types.hpp"

namespace batching {

class work_placement {
public:
  using node_id = std::uint32_t;

  /// Operations [first, first + count) of a job, handed to one node.
  struct chunk {
    node_id node = 0;
    std::uint64_t job_id = 0;
    std::uint64_t first = 0;
    std::uint64_t count = 0;

    bool operator==(const chunk&) const = default;
  };

  /// A run is cut into chunks of at least `min_chunk` operations (when it
  /// has that many), so a small job does not fan out into tiny messages.
  explicit work_placement(std::uint64_t min_chunk = 500);

  void add_node(node_id node, std::set<std::string> types);

  /// The node is gone: its unfinished operations become unplaced; returns
  /// them, by job and ascending index. False-y (empty) for unknown nodes.
  std::vector<op_ref> lose(node_id node);

  /// The node's batcher of `type` is gone (the supervisor restarts it):
  /// the unfinished operations of that type it held become unplaced and are
  /// returned; the node keeps its other types and serves `type` again once
  /// add_node() names it.
  std::vector<op_ref> lose(node_id node, const std::string& type);

  bool live(node_id node) const { return nodes_.count(node) > 0; }

  /// Live nodes serving `type`.
  std::size_t serving(const std::string& type) const;

  void add_job(std::uint64_t job_id, std::string type, std::uint64_t total);

  /// Places the job's unplaced operations on the live nodes of its type.
  std::vector<chunk> place(std::uint64_t job_id);

  /// place() for every job with unplaced operations (ascending job id).
  std::vector<chunk> place_all();

  bool holds(node_id node, const op_ref& op) const;

  /// The holder reports a terminal state; false (and nothing changes)
  /// when `node` does not hold the operation.
  bool finish(node_id node, const op_ref& op);

  /// Marks the job's unplaced operations done and returns their indices.
  std::vector<std::uint64_t> take_unplaced(std::uint64_t job_id);

  void forget(std::uint64_t job_id);

  /// Unfinished operations the node holds (0 for unknown nodes).
  std::uint64_t outstanding(node_id node) const;

private:
  static constexpr node_id unplaced = 0;
  static constexpr node_id done = ~node_id{0};

  struct job {
    std::string type;
    std::vector<node_id> holder; // per operation index
    std::uint64_t unplaced = 0;
  };

  struct node {
    std::set<std::string> types;
    std::uint64_t outstanding = 0;
  };

  node_id least_loaded(const std::string& type) const;
  /// Unplaces what `node` holds (of `type` only, when given).
  std::vector<op_ref> unplace(node_id node, const std::string* type);

  std::uint64_t min_chunk_;
  std::map<node_id, node> nodes_;
  std::unordered_map<std::uint64_t, job> jobs_;
};

} // namespace batching
