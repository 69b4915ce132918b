// The live dashboard in a real browser: headless Chromium loads GET / from
// a runtime that drains a job into nginx, and the page must show live
// numbers (batch size, goodput, latency per type, the job) after several
// one-second updates.
//
// Chromium runs with a virtual-time budget (its timers fast-forward, so the
// page's 1 s polling does not take real seconds); each /v1/dashboard answer
// is held 300 ms here so real traffic flows between updates, and the page
// computes rates over the runtime's own clock (clock_seconds).

#include <cstdio>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "runtime/http/http_api.hpp"
#include "runtime/http/http_executor.hpp"
#include "runtime/http/http_server.hpp"
#include "runtime/system/runtime.hpp"

#include "tests/http/nginx_fixture.hpp"

using namespace batching;
using namespace std::chrono_literals;

namespace {

// Runs `command` and returns what it printed on stdout.
std::string output_of(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe)
    return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0)
    out.append(buf, n);
  ::pclose(pipe);
  return out;
}

// The text of the element with id `id` in the dumped DOM.
std::string element(const std::string& dom, const std::string& id) {
  std::smatch m;
  std::regex re{"id=\"" + id + "\"[^>]*>([^<]*)<"};
  return std::regex_search(dom, m, re) ? m[1].str() : std::string{};
}

double number(const std::string& text) {
  try {
    return std::stod(text);
  } catch (const std::exception&) {
    return -1;
  }
}

} // namespace

TEST(dashboard_browser, chromium_shows_live_numbers_while_a_load_runs) {
  if (output_of("command -v chromium").empty())
    GTEST_FAIL() << "chromium is not installed (tools/setup.sh installs it)";
  test::nginx_server nginx{{5, 5, "", false}};
  ASSERT_TRUE(nginx.running()) << nginx.error_log();
  runtime_config cfg;
  cfg.operation_configs["write"]
    = {100, 500, strategy_kind::adaptive, 1.0, default_backend};
  auto& be = cfg.backends[default_backend];
  be.initial_requests_per_second = 5;
  be.http.url = nginx.url("/append");
  runtime::options opts;
  opts.sample_resources = false;
  runtime rt{cfg, opts};
  auto exec = std::make_shared<http_executor>(be.http);
  rt.set_executor(default_backend, http_executor::callback(exec), 4);
  rt.start();
  http_api api{rt, {}};
  http_server server{{}, [&](const http_request& r) {
                       if (r.path() == "/v1/dashboard")
                         std::this_thread::sleep_for(300ms);
                       return api.handle(r);
                     }};
  // A load that outlasts the page's visit by far (60 s at 5 requests/s x
  // 100 items; at 20/s it lasted ~20 s, and a Chromium that took 24 s to
  // render once in CI saw it finished: goodput 0), submitted through the
  // API, so the page's job list shows it.
  constexpr std::size_t n = 30'000;
  http_request submit;
  submit.method = "POST";
  submit.target = "/v1/jobs";
  submit.body = "{\"type\":\"write\",\"operations\":[";
  for (std::size_t i = 0; i < n; ++i)
    submit.body += (i ? ",{\"n\":" : "{\"n\":") + std::to_string(i) + "}";
  submit.body += "]}";
  auto accepted = api.handle(submit);
  ASSERT_EQ(accepted.status, 202u) << accepted.body;
  std::this_thread::sleep_for(1s); // traffic before the first look
  auto dom
    = output_of("chromium --headless --no-sandbox --disable-gpu --no-first-run "
                "--user-data-dir="
                + nginx.dir().string()
                + "/chromium "
                  "--virtual-time-budget=6000 --dump-dom http://127.0.0.1:"
                + std::to_string(server.port()) + "/ 2>/dev/null");
  server.stop();
  rt.stop(1s);
  ASSERT_FALSE(dom.empty()) << "chromium printed nothing";
  if (std::getenv("BATCHING_DUMP_DOM"))
    std::fputs(dom.c_str(), stderr);
  auto updates = number(element(dom, "updates"));
  auto batch = number(element(dom, "batch-write"));
  auto goodput = number(element(dom, "goodput-write"));
  auto latency = number(element(dom, "latency-write"));
  std::printf("dashboard in chromium: %g updates, batch %g, goodput %g "
              "items/s, p99 %g ms\n",
              updates, batch, goodput, latency);
  EXPECT_GE(updates, 3);
  EXPECT_GE(batch, 10);
  EXPECT_LE(batch, 100); // the backend's item cap
  // Live goodput near the budget (5 x 100), measured by the page.
  EXPECT_GT(goodput, 200);
  EXPECT_LT(goodput, 1000);
  EXPECT_GT(latency, 0);
  // The job list shows the running job; the status line says live.
  EXPECT_NE(dom.find("<td>write</td>"), std::string::npos);
  EXPECT_NE(element(dom, "status").find("live"), std::string::npos);
  // The advice panel read /v1/trends and /v1/recommendations: this runtime
  // samples no resources, and says so.
  EXPECT_EQ(element(dom, "trend-memory"), "off");
  EXPECT_NE(dom.find("resource sampling is off"), std::string::npos);
}
