#pragma once

// Resource alerts to webhooks (monitoring.alerting, docs/metrics.md): each
// notification is one JSON POST to every configured URL, made by a thread
// per webhook through the HTTP executor (keep-alive, TLS, timeouts).
// Which alerts go, when, and the retries of failed deliveries are
// alert_dispatch's decisions (runtime/policy/alert_dispatch.hpp); notify()
// only queues, so the runtime's alert callback never waits for a webhook,
// not even a hung one. The body:
//   {"source": "batching", "node": "...", "resource": "memory",
//    "level": "critical", "value": 95.2, "threshold": 90,
//    "message": "memory at 95.2% >= critical 90% for 30 s",
//    "coalesced": 0, "attempt": 1}

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/policy/alert_dispatch.hpp"
#include "runtime/policy/settings.hpp"

namespace batching {

class webhook_notifier {
public:
  /// Starts one sending thread per webhook of `cfg`. Throws
  /// std::invalid_argument naming a bad URL.
  webhook_notifier(alerting_config cfg, std::string node);

  /// Stops the threads; a delivery in flight ends by its timeout at most.
  ~webhook_notifier();

  webhook_notifier(const webhook_notifier&) = delete;
  webhook_notifier& operator=(const webhook_notifier&) = delete;

  /// Queues the alert (never blocks on a webhook).
  void notify(const resource_alert& alert);

  /// Waits up to `limit` until every delivery due so far was made or
  /// given up (those held back by min_interval aside); whether it got
  /// there.
  bool flush(duration limit);

  /// What happened so far (alert_dispatch's counts).
  alert_dispatch::counts totals() const;

  /// The JSON body of one delivery.
  static std::string body(const alert_dispatch::delivery& d,
                          const std::string& node);

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace batching
