#pragma once

// How nodes of a cluster reach each other (docs/deployment.md): CAF's
// middleman, over TLS with CAF's OpenSSL module unless plain TCP is asked
// for explicitly and every address is a loopback one. A node publishes one
// cluster_entry_actor on one address only; a joining node asks it for the
// cluster_directory (the budget authority and, on a coordinator node, the
// coordinator).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "messages/interfaces.hpp"
#include "runtime/policy/settings.hpp"

namespace caf {
class actor_system;
class actor_system_config;
} // namespace caf

namespace batching {

/// Why `cfg` cannot work, or empty: a member or worker needs an address to
/// join; TLS needs certificate, key and CA as readable files; plain TCP
/// needs loopback addresses only (the one listened on or joined).
std::string check_cluster(const cluster_config& cfg);

/// Loads the middleman (and the OpenSSL module for TLS) into `sys_cfg`
/// and sets the heartbeat that notices a frozen peer: heartbeats every
/// 200 ms, a connection silent for peer_timeout_seconds is dropped.
/// BATCHING_TLS_PASSPHRASE, when set, overrides the key's passphrase.
void prepare_cluster_config(caf::actor_system_config& sys_cfg,
                            const cluster_config& cfg);

/// Answers every join with `directory`; `on_join` (if set) hears each
/// joining node's name, on a CAF thread.
cluster_entry_actor
spawn_cluster_entry(caf::actor_system& sys, cluster_directory directory,
                    std::function<void(const std::string&)> on_join = {});

/// Publishes `entry` on "host:port" (that address only); the bound port,
/// or throws std::runtime_error saying why not.
std::uint16_t publish_entry(caf::actor_system& sys, cluster_entry_actor entry,
                            const std::string& address,
                            const cluster_config& cfg);

/// Connects to the entry at "host:port" and joins as `node`; throws
/// std::runtime_error saying why not (unreachable, refused certificate,
/// no answer within the peer timeout).
cluster_directory join_cluster(caf::actor_system& sys,
                               const std::string& address,
                               const std::string& node,
                               const cluster_config& cfg);

/// A member node's way back to a restarted authority: it watches
/// `authority`, and once it is lost asks the entry at `address` again every
/// second; the authority it finds goes to every gate of `gates` (which
/// lease on their fallback share meanwhile) and is watched in turn.
caf::actor spawn_rejoiner(caf::actor_system& sys, const std::string& address,
                          const std::string& node, const cluster_config& cfg,
                          budget_authority_actor authority,
                          std::vector<circuit_breaker_actor> gates);

/// What a worker node does when its coordinator comes and goes.
struct worker_hooks {
  /// The coordinator is lost (it died, or dropped this node after a
  /// freeze): stop this node's work, which was moved to the other nodes or
  /// went with the coordinator.
  std::function<void()> lost;
  /// A coordinator was found at the address: spawn this node's work anew
  /// for it and hand over its batchers to register.
  std::function<std::map<std::string, batcher_actor>(const cluster_directory&)>
    rebuild;
  /// Registered again, as node `id`.
  std::function<void(std::uint32_t)> rejoined;
};

/// A worker node's way back to its coordinator, as spawn_rejoiner is a
/// member's to its authority: it watches `coordinator`; once it is lost it
/// calls hooks.lost, then asks the entry at `address` every second; a
/// coordinator found there (a restarted one, or the same one after this
/// node was dropped) gets the batchers of hooks.rebuild registered
/// (join_atom) and is watched in turn. A failed registration counts as a
/// loss (hooks.lost, and ask again).
caf::actor spawn_worker_link(caf::actor_system& sys, const std::string& address,
                             const std::string& node, const cluster_config& cfg,
                             coordinator_actor coordinator, worker_hooks hooks);

} // namespace batching
