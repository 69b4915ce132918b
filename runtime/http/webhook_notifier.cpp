#include "runtime/http/webhook_notifier.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "runtime/http/http_executor.hpp"

namespace batching {

struct webhook_notifier::impl {
  alerting_config cfg;
  std::string node;
  mutable std::mutex lock;
  std::condition_variable wake;
  std::condition_variable settled; // a delivery ended
  alert_dispatch dispatch;
  bool stopping = false;
  std::vector<std::unique_ptr<http_executor>> hooks;
  std::vector<std::thread> threads;

  impl(alerting_config c, std::string n)
    : cfg(std::move(c)), node(std::move(n)), dispatch(dispatch_config(cfg)) {
    for (const auto& url : cfg.webhooks) {
      http_backend_config h;
      h.url = url.second;
      h.headers = cfg.headers;
      h.body_template = "{{payloads}}";
      h.max_connections = 1;
      h.connect_timeout_seconds = cfg.timeout_seconds;
      hooks.push_back(std::make_unique<http_executor>(std::move(h)));
    }
  }

  static alert_dispatch::config dispatch_config(const alerting_config& c) {
    alert_dispatch::config d;
    d.min_level = c.min_level;
    d.min_interval = from_seconds(c.min_interval_seconds);
    d.max_attempts = c.max_attempts;
    d.first_backoff = from_seconds(c.retry_backoff_seconds);
    d.webhooks = std::max<std::size_t>(1, c.webhooks.size());
    return d;
  }

  static time_point now() { return std::chrono::steady_clock::now(); }

  /// Webhook `i`'s thread: sends what is due for it, one at a time.
  void run(std::size_t i) {
    std::unique_lock<std::mutex> guard{lock};
    while (!stopping) {
      auto due = dispatch.take_due(i, now());
      if (!due) {
        if (auto next = dispatch.next_due(i))
          wake.wait_until(guard, *next);
        else
          wake.wait(guard);
        continue;
      }
      guard.unlock();
      batch b;
      b.batch_id = due->attempt;
      b.op_type = "alert";
      b.attempt = due->attempt;
      b.timeout = from_seconds(cfg.timeout_seconds);
      b.operations.push_back({1, webhook_notifier::body(*due, node)});
      bool ok = hooks[i]->send(b).status == batch_status::ok;
      guard.lock();
      dispatch.on_result(i, ok, now());
      // Another hook's pending notification may have become due.
      wake.notify_all();
      settled.notify_all();
    }
  }
};

webhook_notifier::webhook_notifier(alerting_config cfg, std::string node)
  : impl_(std::make_shared<impl>(std::move(cfg), std::move(node))) {
  for (std::size_t i = 0; i < impl_->hooks.size(); ++i)
    impl_->threads.emplace_back([p = impl_.get(), i] { p->run(i); });
}

webhook_notifier::~webhook_notifier() {
  {
    std::lock_guard<std::mutex> guard{impl_->lock};
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  for (auto& t : impl_->threads)
    t.join();
}

void webhook_notifier::notify(const resource_alert& alert) {
  {
    std::lock_guard<std::mutex> guard{impl_->lock};
    impl_->dispatch.offer(alert, impl::now());
  }
  impl_->wake.notify_all();
}

bool webhook_notifier::flush(duration limit) {
  auto until = impl::now() + limit;
  std::unique_lock<std::mutex> guard{impl_->lock};
  for (;;) {
    if (impl_->dispatch.quiet())
      return true;
    if (impl_->settled.wait_until(guard, until) == std::cv_status::timeout)
      return impl_->dispatch.quiet();
  }
}

alert_dispatch::counts webhook_notifier::totals() const {
  std::lock_guard<std::mutex> guard{impl_->lock};
  return impl_->dispatch.totals();
}

std::string webhook_notifier::body(const alert_dispatch::delivery& d,
                                   const std::string& node) {
  boost::json::object o{{"source", "batching"},
                        {"node", node},
                        {"resource", to_string(d.alert.resource)},
                        {"level", to_string(d.alert.level)},
                        {"value", d.alert.value},
                        {"threshold", d.alert.threshold},
                        {"message", d.alert.message},
                        {"coalesced", d.coalesced},
                        {"attempt", d.attempt}};
  return boost::json::serialize(o);
}

} // namespace batching
