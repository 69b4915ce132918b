#include "runtime/policy/work_placement.hpp"

#include <algorithm>

namespace batching {

work_placement::work_placement(std::uint64_t min_chunk)
  : min_chunk_(std::max<std::uint64_t>(1, min_chunk)) {
  // nop
}

void work_placement::add_node(node_id id, std::set<std::string> types) {
  if (id == unplaced || id == done)
    return;
  auto& n = nodes_[id];
  n.types.insert(types.begin(), types.end());
}

std::vector<op_ref> work_placement::lose(node_id id) {
  if (nodes_.erase(id) == 0)
    return {};
  return unplace(id, nullptr);
}

std::vector<op_ref> work_placement::lose(node_id id, const std::string& type) {
  auto n = nodes_.find(id);
  if (n == nodes_.end() || n->second.types.erase(type) == 0)
    return {};
  auto back = unplace(id, &type);
  n->second.outstanding -= back.size();
  return back;
}

std::vector<op_ref> work_placement::unplace(node_id id,
                                            const std::string* type) {
  std::vector<op_ref> back;
  std::vector<std::uint64_t> ids;
  for (const auto& [job_id, j] : jobs_)
    if (!type || j.type == *type)
      ids.push_back(job_id);
  std::sort(ids.begin(), ids.end());
  for (auto job_id : ids) {
    auto& j = jobs_.at(job_id);
    for (std::uint64_t i = 0; i < j.holder.size(); ++i)
      if (j.holder[i] == id) {
        j.holder[i] = unplaced;
        ++j.unplaced;
        back.push_back({job_id, i});
      }
  }
  return back;
}

std::size_t work_placement::serving(const std::string& type) const {
  return static_cast<std::size_t>(
    std::count_if(nodes_.begin(), nodes_.end(),
                  [&](const auto& n) { return n.second.types.count(type); }));
}

void work_placement::add_job(std::uint64_t job_id, std::string type,
                             std::uint64_t total) {
  auto& j = jobs_[job_id];
  j.type = std::move(type);
  j.holder.assign(total, unplaced);
  j.unplaced = total;
}

work_placement::node_id
work_placement::least_loaded(const std::string& type) const {
  node_id best = unplaced;
  std::uint64_t load = 0;
  for (const auto& [id, n] : nodes_)
    if (n.types.count(type) && (best == unplaced || n.outstanding < load)) {
      best = id;
      load = n.outstanding;
    }
  return best;
}

std::vector<work_placement::chunk> work_placement::place(std::uint64_t job_id) {
  std::vector<chunk> placed;
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || it->second.unplaced == 0)
    return placed;
  auto& j = it->second;
  auto nodes = static_cast<std::uint64_t>(serving(j.type));
  if (nodes == 0)
    return placed;
  const auto size = static_cast<std::uint64_t>(j.holder.size());
  for (std::uint64_t first = 0; first < size;) {
    if (j.holder[first] != unplaced) {
      ++first;
      continue;
    }
    auto end = first;
    while (end < size && j.holder[end] == unplaced)
      ++end;
    auto count = end - first;
    auto k = std::clamp<std::uint64_t>(count / min_chunk_, 1, nodes);
    for (std::uint64_t c = 0; c < k; ++c) {
      // Near-equal cuts: chunk c covers [count*c/k, count*(c+1)/k).
      auto from = first + count * c / k;
      auto to = first + count * (c + 1) / k;
      auto node = least_loaded(j.type);
      for (auto i = from; i < to; ++i)
        j.holder[i] = node;
      nodes_.at(node).outstanding += to - from;
      j.unplaced -= to - from;
      placed.push_back({node, job_id, from, to - from});
    }
    first = end;
  }
  return placed;
}

std::vector<work_placement::chunk> work_placement::place_all() {
  std::vector<std::uint64_t> ids;
  for (const auto& [job_id, j] : jobs_)
    if (j.unplaced > 0)
      ids.push_back(job_id);
  std::sort(ids.begin(), ids.end());
  std::vector<chunk> placed;
  for (auto job_id : ids) {
    auto more = place(job_id);
    placed.insert(placed.end(), more.begin(), more.end());
  }
  return placed;
}

bool work_placement::holds(node_id id, const op_ref& op) const {
  auto it = jobs_.find(op.job_id);
  return it != jobs_.end() && op.index < it->second.holder.size()
         && it->second.holder[op.index] == id && id != unplaced && id != done;
}

bool work_placement::finish(node_id id, const op_ref& op) {
  if (!holds(id, op))
    return false;
  jobs_.at(op.job_id).holder[op.index] = done;
  if (auto n = nodes_.find(id); n != nodes_.end())
    --n->second.outstanding;
  return true;
}

std::vector<std::uint64_t> work_placement::take_unplaced(std::uint64_t job_id) {
  std::vector<std::uint64_t> taken;
  auto it = jobs_.find(job_id);
  if (it == jobs_.end())
    return taken;
  auto& j = it->second;
  for (std::uint64_t i = 0; i < j.holder.size(); ++i)
    if (j.holder[i] == unplaced) {
      j.holder[i] = done;
      taken.push_back(i);
    }
  j.unplaced = 0;
  return taken;
}

void work_placement::forget(std::uint64_t job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end())
    return;
  // Whatever the job still holds stops counting against its nodes.
  for (auto holder : it->second.holder)
    if (auto n = nodes_.find(holder); n != nodes_.end())
      --n->second.outstanding;
  jobs_.erase(it);
}

std::uint64_t work_placement::outstanding(node_id id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? 0 : it->second.outstanding;
}

} // namespace batching
