// Google Benchmark of the optimizer's model (runtime/model): training on
// 10,000 samples and one batch-size prediction. Figures go to
// docs/benchmarks.md with this command:
//   build/model_benchmark --benchmark_min_time=2
#include <cmath>
#include <random>

#include <benchmark/benchmark.h>

#include "runtime/model/response_model.hpp"

namespace {

using namespace batching;

// A response surface with the shape the simulator shows: throughput
// saturating in batch size towards the arrival rate, latency with a
// minimum and growing with the queue; 2% noise.
std::vector<training_sample> samples(std::size_t n) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> noise(0, 0.02);
  std::vector<training_sample> out;
  for (std::size_t i = 0; i < n; ++i) {
    training_sample s;
    auto& f = s.features;
    f.batch_size = 10 + 190 * u(rng);
    f.in_flight_batches = 1 + 3 * u(rng);
    f.pending_operations = 1000 * u(rng);
    f.arrival_rate = 100 + 200 * u(rng);
    f.recent_latency_ms = 200 + 100 * u(rng);
    f.throttle_rate = 0.01 * u(rng);
    f.seconds_since_throttle = 600 * u(rng);
    f.cpu_percent = 20 + 10 * u(rng);
    f.memory_percent = 40 + 5 * u(rng);
    s.throughput
      = f.arrival_rate * (1 - std::exp(-f.batch_size / 30)) * (1 + noise(rng));
    s.item_latency_ms = (100 + (f.batch_size - 80) * (f.batch_size - 80) / 10
                         + f.pending_operations / 20)
                        * (1 + noise(rng));
    s.success_rate = 1;
    out.push_back(s);
  }
  return out;
}

void train(benchmark::State& state) {
  auto data = samples(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    response_model m;
    benchmark::DoNotOptimize(m.train(data));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(train)->Arg(1'000)->Arg(10'000)->Unit(benchmark::kMillisecond);

void predict(benchmark::State& state) {
  response_model m;
  auto data = samples(10'000);
  m.train(data);
  optimization_target target;
  target.max_response_time_ms = 1000;
  std::size_t k = 0;
  for (auto _ : state) {
    auto p = m.predict(data[k++ % data.size()].features, target, 10, 500);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(predict)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
