#include "runtime/system/cluster_link.hpp"

#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <memory>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <set>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "runtime/policy/http_mapping.hpp"

// OpenSSL's error queue is per thread and SSL_get_error() trusts it to be
// empty before each I/O call. CAF 0.17.6's OpenSSL module never clears it,
// and runs every connection on one multiplexer thread: when one peer dies
// (kill -9, reset), the errors its connection left make the next read on
// any other connection look failed, and CAF drops that healthy peer too
// (found by tests/tools/distribution_test.sh). These definitions take
// precedence over libssl's for the whole process (the executable's symbols
// come first in ELF lookup): they clear the queue, then call libssl's.
namespace {

template <class F>
F next_ssl(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto next = next_ssl<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return next(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto next = next_ssl<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return next(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static auto next = next_ssl<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return next(ssl);
}

int SSL_connect(SSL* ssl) {
  static auto next = next_ssl<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return next(ssl);
}

} // extern "C"

namespace batching {

namespace {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool readable(const std::string& path) {
  std::ifstream in{path};
  return in.good();
}

std::string check_transport(const cluster_config& s,
                            const std::vector<std::string>& addresses) {
  if (s.transport == cluster_transport::plain_tcp) {
    for (const auto& a : addresses) {
      std::string why;
      auto hp = parse_host_port(a, &why);
      if (!hp)
        return why;
      if (!is_loopback(hp->host))
        return "plain TCP between nodes is for loopback testing only (" + a
               + " is not a loopback address); configure TLS "
                 "certificates instead";
    }
    return {};
  }
  if (s.certificate.empty() || s.key.empty() || s.ca_file.empty())
    return "TLS between nodes needs a certificate, its key and the CA file "
           "(cluster.certificate, cluster.key, cluster.ca_file or --tls-cert, "
           "--tls-key, --tls-ca), or plain TCP on loopback (transport "
           "plain_tcp or --plain-tcp)";
  for (const auto& [what, path] :
       {std::pair{"certificate", s.certificate}, std::pair{"key", s.key},
        std::pair{"CA file", s.ca_file}})
    if (!readable(path))
      return std::string{"cannot read the TLS "} + what + " '" + path + "'";
  return {};
}

/// How long a peer may stay silent, and a request to it may take.
caf::timespan peer_timeout(const cluster_config& s) {
  return caf::timespan{from_seconds(s.peer_timeout_seconds)};
}

host_port address_of(const std::string& address) {
  std::string why;
  auto hp = parse_host_port(address, &why);
  if (!hp)
    throw std::runtime_error(why);
  return *hp;
}

} // namespace

std::string check_cluster(const cluster_config& c) {
  switch (c.role) {
    case cluster_role::none: return {};
    case cluster_role::authority:
    case cluster_role::coordinator: return check_transport(c, {c.listen});
    default:
      if (c.join.empty())
        return "a " + to_string(c.role)
               + " needs --join HOST:PORT (cluster.join: the authority or "
                 "coordinator node)";
      return check_transport(c, {c.join});
  }
}

void prepare_cluster_config(caf::actor_system_config& cfg,
                            const cluster_config& s) {
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{200'000'000});
  cfg.set("middleman.connection-timeout", peer_timeout(s));
  if (s.transport == cluster_transport::plain_tcp)
    return;
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = s.certificate;
  cfg.openssl_key = s.key;
  const char* pass = std::getenv("BATCHING_TLS_PASSPHRASE");
  cfg.openssl_passphrase = pass ? pass : s.passphrase;
  cfg.openssl_cafile = s.ca_file;
}

cluster_entry_actor
spawn_cluster_entry(caf::actor_system& sys, cluster_directory directory,
                    std::function<void(const std::string&)> on_join) {
  return sys.spawn([directory, on_join](cluster_entry_actor::pointer)
                     -> cluster_entry_actor::behavior_type {
    return {
      [directory, on_join](join_atom, const std::string& node) {
        if (on_join)
          on_join(node);
        return directory;
      },
    };
  });
}

std::uint16_t publish_entry(caf::actor_system& sys, cluster_entry_actor entry,
                            const std::string& address,
                            const cluster_config& s) {
  auto hp = address_of(address);
  // The address given only: without it CAF listens on every interface.
  // Address reuse: a restarted node gets its port back at once, though its
  // predecessor's connections linger in TIME_WAIT.
  auto port = s.transport == cluster_transport::plain_tcp
                ? sys.middleman().publish(entry, hp.port, hp.host.c_str(), true)
                : caf::openssl::publish(entry, hp.port, hp.host.c_str(), true);
  if (!port)
    throw std::runtime_error("cannot listen on " + address + ": "
                             + sys.render(port.error()));
  return *port;
}

namespace {

using rejoin_atom = caf::atom_constant<caf::atom("rejoin")>;

/// How often a node that lost its authority or coordinator asks again.
constexpr auto retry_every = std::chrono::seconds{1};

/// Asks the entry at `address` for the cluster's directory, from `self`:
/// `found` gets it, `failed` is called on any failure (unreachable, no
/// entry, no answer within the peer timeout).
template <class Found, class Failed>
void ask_directory(caf::event_based_actor* self, const std::string& address,
                   const std::string& node, const cluster_config& cfg,
                   Found found, Failed failed) {
  auto hp = address_of(address);
  auto mm = cfg.transport == cluster_transport::tls
              ? self->system().openssl_manager().actor_handle()
              : self->system().middleman().actor_handle();
  auto timeout = peer_timeout(cfg);
  self->request(mm, timeout, caf::connect_atom::value, hp.host, hp.port)
    .then(
      [=](caf::node_id&, caf::strong_actor_ptr& entry_ptr,
          std::set<std::string>&) {
        if (!entry_ptr)
          return failed();
        auto entry = caf::actor_cast<cluster_entry_actor>(entry_ptr);
        self->request(entry, timeout, join_atom::value, node)
          .then([=](cluster_directory& dir) { found(dir); },
                [=](caf::error&) { failed(); });
      },
      [=](caf::error&) { failed(); });
}

} // namespace

caf::actor spawn_rejoiner(caf::actor_system& sys, const std::string& address,
                          const std::string& node, const cluster_config& cfg,
                          budget_authority_actor authority,
                          std::vector<circuit_breaker_actor> gates) {
  return sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
    auto retry
      = [self] { self->delayed_send(self, retry_every, rejoin_atom::value); };
    self->monitor(authority);
    self->set_down_handler([retry](caf::down_msg&) { retry(); });
    return {
      [=](rejoin_atom) {
        ask_directory(
          self, address, node, cfg,
          [=](cluster_directory& dir) {
            if (!dir.authority)
              return retry();
            self->monitor(dir.authority);
            for (const auto& g : gates)
              self->send(g, caf::put_atom::value, dir.authority);
          },
          retry);
      },
    };
  });
}

caf::actor spawn_worker_link(caf::actor_system& sys, const std::string& address,
                             const std::string& node, const cluster_config& cfg,
                             coordinator_actor coordinator,
                             worker_hooks hooks) {
  return sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
    auto watched = std::make_shared<caf::actor_addr>(coordinator.address());
    auto retry
      = [self] { self->delayed_send(self, retry_every, rejoin_atom::value); };
    self->monitor(coordinator);
    self->set_down_handler([=](caf::down_msg& dm) {
      if (dm.source != *watched)
        return; // a coordinator watched before
      *watched = caf::actor_addr{};
      hooks.lost();
      retry();
    });
    return {
      [=](rejoin_atom) {
        ask_directory(
          self, address, node, cfg,
          [=](cluster_directory& dir) {
            if (!dir.coordinator)
              return retry();
            auto batchers = hooks.rebuild(dir);
            self
              ->request(dir.coordinator, peer_timeout(cfg), join_atom::value,
                        worker_registration{node, std::move(batchers)})
              .then(
                [=](std::uint32_t id) {
                  *watched = dir.coordinator.address();
                  self->monitor(dir.coordinator);
                  hooks.rejoined(id);
                },
                [=](caf::error&) {
                  hooks.lost();
                  retry();
                });
          },
          retry);
      },
    };
  });
}

cluster_directory join_cluster(caf::actor_system& sys,
                               const std::string& address,
                               const std::string& node,
                               const cluster_config& s) {
  auto hp = address_of(address);
  bool tls = s.transport == cluster_transport::tls;
  auto entry
    = !tls ? sys.middleman().remote_actor<cluster_entry_actor>(hp.host, hp.port)
           : caf::openssl::remote_actor<cluster_entry_actor>(sys, hp.host,
                                                             hp.port);
  if (!entry) {
    auto why = sys.render(entry.error());
    if (tls && why.find("handshake") != std::string::npos)
      why += " (the TLS handshake failed: is this node's certificate signed "
             "by the cluster's CA, and does the other node use TLS?)";
    throw std::runtime_error("cannot join the cluster at " + address + ": "
                             + why);
  }
  caf::scoped_actor self{sys};
  cluster_directory dir;
  std::string failed;
  self->request(*entry, peer_timeout(s), join_atom::value, node)
    .receive([&](cluster_directory& d) { dir = std::move(d); },
             [&](caf::error& e) { failed = sys.render(e); });
  if (!failed.empty())
    throw std::runtime_error("the cluster at " + address
                             + " did not answer: " + failed);
  return dir;
}

} // namespace batching
