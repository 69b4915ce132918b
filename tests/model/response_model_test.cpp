#include <cmath>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "runtime/model/response_model.hpp"

#include "tests/model/synthetic_surface.hpp"

namespace batching {
namespace {

using namespace testing_support;

TEST(response_model, untrained_answers_the_current_size_with_no_confidence) {
  response_model m;
  feature_vector f;
  f.batch_size = 42;
  auto p = m.predict(f, {}, 10, 100);
  EXPECT_EQ(p.batch_size, 42u);
  EXPECT_EQ(p.confidence, 0);
  EXPECT_FALSE(m.trained());
  EXPECT_FALSE(m.train(synthetic(response_model::min_samples - 1, 1)));
  EXPECT_FALSE(m.trained());
}

TEST(response_model, skips_non_finite_samples) {
  auto data = synthetic(100, 2);
  data[7].throughput = std::nan("");
  data[9].features.arrival_rate = INFINITY;
  response_model m;
  ASSERT_TRUE(m.train(data));
  EXPECT_EQ(m.scores().samples, 98u);
  std::vector<training_sample> bad(30, data[7]);
  EXPECT_FALSE(m.train(bad)); // nothing usable: the model stays
  EXPECT_EQ(m.scores().samples, 98u);
}

// Stated accuracy: leave-one-out R^2 >= 0.95 on both outputs, and on fresh
// points from the same region a median relative error under 5%.
TEST(response_model, learns_a_known_surface) {
  response_model m;
  ASSERT_TRUE(m.train(synthetic(800, 3)));
  EXPECT_GE(m.scores().throughput_r2, 0.95);
  EXPECT_GE(m.scores().latency_r2, 0.95);
  EXPECT_EQ(m.scores().samples, 800u);
  std::mt19937_64 rng(99);
  std::vector<double> errors;
  for (int i = 0; i < 200; ++i) {
    auto f = random_features(rng, 10, 200);
    auto e = m.estimate(f);
    errors.push_back(std::abs(e.throughput / true_throughput(f) - 1));
    errors.push_back(std::abs(e.latency_ms / true_latency(f) - 1));
  }
  std::nth_element(errors.begin(), errors.begin() + errors.size() / 2,
                   errors.end());
  EXPECT_LT(errors[errors.size() / 2], 0.05);
  // Batch size and pending operations drive the surface; cpu does not.
  const auto& imp = m.importances();
  ASSERT_EQ(imp.size(), 10u);
  EXPECT_GT(imp.at("batch_size"), imp.at("cpu_percent"));
  EXPECT_GT(imp.at("arrival_rate"), imp.at("memory_percent"));
}

TEST(response_model, predicts_the_latency_optimum_that_keeps_up) {
  response_model m;
  ASSERT_TRUE(m.train(synthetic(800, 4)));
  std::mt19937_64 rng(5);
  auto f = random_features(rng, 60, 60);
  optimization_target latency_first;
  latency_first.priority = target_priority::latency;
  auto p = m.predict(f, latency_first, 10, 200);
  // The latency minimum is 80; throughput within 90% of the best needs
  // b >= 30 * ln 10 ~ 69, so the answer lies near 80.
  EXPECT_GE(p.batch_size, 65u);
  EXPECT_LE(p.batch_size, 100u);
  EXPECT_GT(p.confidence, 0.5);
  optimization_target throughput_first;
  throughput_first.priority = target_priority::throughput;
  throughput_first.max_response_time_ms = 1000;
  auto q = m.predict(f, throughput_first, 10, 200);
  // Throughput grows with size; latency stays under 1000 ms up to ~170.
  EXPECT_GE(q.batch_size, 130u);
  EXPECT_LE(q.batch_size, 200u);
  EXPECT_LE(q.predicted_latency_ms, 1000);
}

TEST(response_model, confidence_is_lower_far_from_the_data) {
  response_model m;
  ASSERT_TRUE(m.train(synthetic(400, 6, 20, 60)));
  std::mt19937_64 rng(7);
  auto near = random_features(rng, 40, 40);
  auto far = near;
  far.batch_size = 400;
  auto c_near = m.estimate(near).confidence;
  auto c_far = m.estimate(far).confidence;
  EXPECT_GT(c_near, 0.5);
  EXPECT_LT(c_far, 0.5 * c_near);
  EXPECT_GE(c_far, 0);
}

TEST(response_model, save_and_load_round_trip) {
  response_model m;
  ASSERT_TRUE(m.train(synthetic(300, 8)));
  std::stringstream buf;
  m.save(buf);
  response_model back;
  back.load(buf);
  ASSERT_TRUE(back.trained());
  EXPECT_EQ(back.scores(), m.scores());
  EXPECT_EQ(back.importances(), m.importances());
  std::mt19937_64 rng(9);
  for (int i = 0; i < 20; ++i) {
    auto f = random_features(rng, 10, 200);
    auto a = m.estimate(f);
    auto b = back.estimate(f);
    EXPECT_EQ(a.throughput, b.throughput);
    EXPECT_EQ(a.latency_ms, b.latency_ms);
    EXPECT_EQ(a.confidence, b.confidence);
  }
}

TEST(response_model, damaged_files_throw_model_error_and_keep_the_model) {
  response_model m;
  ASSERT_TRUE(m.train(synthetic(300, 10)));
  std::stringstream buf;
  m.save(buf);
  auto bytes = buf.str();
  auto before = m.scores();

  std::stringstream truncated(bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(m.load(truncated), model_error);
  std::stringstream garbage("this is not a model");
  EXPECT_THROW(m.load(garbage), model_error);
  std::stringstream empty;
  EXPECT_THROW(m.load(empty), model_error);
  // The right header, then bytes whose length fields claim gigabytes.
  std::stringstream huge(bytes.substr(0, 25) + std::string(64, '\x7f'));
  EXPECT_THROW(m.load(huge), model_error);
  EXPECT_TRUE(m.trained());
  EXPECT_EQ(m.scores(), before);

  // A file from another format version names both versions.
  std::stringstream versioned;
  {
    response_model other;
    other.save(versioned);
  }
  auto text = versioned.str();
  auto pos = text.find("batching-response-model") + 23;
  // dlib writes an integer as a length byte, then its bytes.
  text[pos + 1] = static_cast<char>(text[pos + 1] + 1); // version 1 -> 2
  std::stringstream wrong_version(text);
  try {
    m.load(wrong_version);
    FAIL() << "expected model_error";
  } catch (const model_error& e) {
    EXPECT_NE(std::string{e.what()}.find("version"), std::string::npos)
      << e.what();
  }
}

} // namespace
} // namespace batching

namespace batching {
namespace {

// Asked for a size it is at least 0.7 confident about, the model answers
// one; unconstrained it picks the largest size within its trust region
// (throughput grows with size), where confidence is lower.
TEST(response_model, answers_within_the_confidence_the_asker_needs) {
  using namespace testing_support;
  response_model m;
  ASSERT_TRUE(m.train(synthetic(400, 12, 20, 60)));
  std::mt19937_64 rng(13);
  auto f = random_features(rng, 40, 40);
  optimization_target target;
  target.priority = target_priority::throughput;
  target.min_confidence = 0.7;
  auto p = m.predict(f, target, 10, 200);
  EXPECT_GE(p.confidence, 0.7);
  target.min_confidence = 0;
  auto q = m.predict(f, target, 10, 200);
  EXPECT_LT(q.confidence, 0.7);
  EXPECT_GT(q.batch_size, p.batch_size);
}

} // namespace
} // namespace batching
