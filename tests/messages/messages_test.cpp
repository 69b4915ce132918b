// Every message type survives CAF's binary serializer (the middleman's code
// path) unchanged, both directly and inside a caf::message (which needs the
// type registered by register_types); errors render readably.

#include <algorithm>
#include <limits>
#include <type_traits>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "messages/error.hpp"
#include "messages/interfaces.hpp"
#include "messages/registration.hpp"

using namespace batching;

// -- generators: one generic Arbitrary for every inspectable batching type ----

namespace {

/// Fills each field of an inspectable struct with a generated value.
struct random_filler {
  using result_type = void;

  template <class... Ts>
  void operator()(Ts&&... xs) {
    (fill(xs), ...);
  }

  template <class T>
  void fill(T& x) {
    if constexpr (!std::is_base_of_v<caf::meta::annotation, T>)
      x = *rc::gen::arbitrary<T>();
  }
};

/// Counts the fields an inspect overload visits.
struct field_counter {
  using result_type = void;
  std::size_t fields = 0;

  template <class... Ts>
  void operator()(Ts&&...) {
    ((fields += !std::is_base_of_v<caf::meta::annotation, std::decay_t<Ts>>),
     ...);
  }
};

/// Gives every enum and floating-point field an inspect overload visits a
/// value that cannot cross the wire (an enum number without a name, an
/// infinity), as a peer's bytes could.
struct field_poisoner {
  using result_type = void;
  std::size_t poisoned = 0;

  template <class... Ts>
  void operator()(Ts&&... xs) {
    (poison(xs), ...);
  }

  template <class T>
  void poison(T& x) {
    if constexpr (batching::named_enum<T>) {
      x = static_cast<T>(batching::enum_names<T>::names.size());
      ++poisoned;
    } else if constexpr (std::is_floating_point_v<T>) {
      x = std::numeric_limits<T>::infinity();
      ++poisoned;
    } else if constexpr (std::is_same_v<T, std::vector<double>>) {
      x.push_back(std::numeric_limits<double>::infinity());
      ++poisoned;
    }
  }
};

/// Converts to anything: counts an aggregate's fields by brace-initializing.
struct any_field {
  template <class T>
  operator T() const;
};

template <class T, class... Fields>
constexpr std::size_t aggregate_fields() {
  if constexpr (requires { T{Fields{}..., any_field{}}; })
    return aggregate_fields<T, Fields..., any_field>();
  else
    return sizeof...(Fields);
}

template <class T>
std::size_t inspected_fields() {
  T x;
  field_counter f;
  inspect(f, x);
  return f.fields;
}

template <class T>
concept inspectable = std::is_class_v<T> && requires(random_filler& f, T& x) {
  inspect(f, x);
};

} // namespace

namespace rc {

template <batching::named_enum E>
struct Arbitrary<E> {
  static Gen<E> arbitrary() {
    constexpr auto n = batching::enum_names<E>::names.size();
    return gen::map(gen::inRange<std::size_t>(0, n),
                    [](std::size_t i) { return static_cast<E>(i); });
  }
};

template <inspectable T>
struct Arbitrary<T> {
  static Gen<T> arbitrary() {
    return gen::exec([] {
      T x;
      random_filler f;
      inspect(f, x);
      return x;
    });
  }
};

template <>
struct Arbitrary<batching::time_point> {
  static Gen<batching::time_point> arbitrary() {
    return gen::map(gen::arbitrary<std::int64_t>(), [](std::int64_t ns) {
      return batching::time_point{std::chrono::nanoseconds{ns}};
    });
  }
};

template <>
struct Arbitrary<batching::duration> {
  static Gen<batching::duration> arbitrary() {
    return gen::map(gen::arbitrary<std::int64_t>(),
                    [](std::int64_t ns) { return batching::duration{ns}; });
  }
};

} // namespace rc

// -- fixture ------------------------------------------------------------------

namespace {

/// One actor system with the protocol registered, on the deterministic
/// scheduler (no threads).
struct test_config : caf::actor_system_config {
  test_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
    register_types(*this);
  }
};

/// Each test owns its system: CAF 0.17 crashes when an actor_system is
/// destroyed during static destruction, so none may live in a static.
class messages : public testing::Test {
protected:
  test_config cfg;
  caf::actor_system sys{cfg};
};

using messages_property = messages;

template <class T>
T round_trip(caf::actor_system& sys, const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto copy = x;
  if (auto err = sink(copy))
    ADD_FAILURE() << "serializing failed: " << sys.render(err);
  T result;
  caf::binary_deserializer source{sys, buf};
  if (auto err = source(result))
    ADD_FAILURE() << "deserializing failed: " << sys.render(err);
  return result;
}

/// Round trip inside a caf::message: needs the type's registered name.
template <class T>
T message_round_trip(caf::actor_system& sys, const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto msg = caf::make_message(x);
  if (auto err = sink(msg))
    ADD_FAILURE() << "serializing message failed: " << sys.render(err);
  caf::message result;
  caf::binary_deserializer source{sys, buf};
  if (auto err = source(result))
    ADD_FAILURE() << "deserializing message failed: " << sys.render(err);
  if (!result.match_elements<T>()) {
    ADD_FAILURE() << "message lost its type: " << to_string(result);
    return T{};
  }
  return result.get_as<T>(0);
}

/// A value with a field that cannot cross the wire does not save (CAF 0.17
/// would loop forever packing an infinity): the check inspect_fields runs
/// on save is the one it runs on load. Every type goes through here, so one
/// whose fields escape the check fails.
template <class T>
void check_poisoned_fields_refused(caf::actor_system& sys) {
  T x;
  field_poisoner poison;
  inspect(poison, x);
  if (poison.poisoned == 0)
    return;
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  EXPECT_EQ(code_of(sink(x)), error_code::bad_request)
    << typeid(T).name() << " saved a field that cannot cross the wire";
}

/// One value of T, generated, across the wire both ways.
template <class T>
void round_trip_one(caf::actor_system& sys) {
  auto x = *rc::gen::arbitrary<T>();
  if (!(round_trip(sys, x) == x))
    RC_FAIL(std::string{"round trip of "} + typeid(T).name());
  if (!(message_round_trip(sys, x) == x))
    RC_FAIL(std::string{"message round trip of "} + typeid(T).name());
}

/// The generators fill what inspect visits, so inspect must visit every
/// field (a forgotten one would never be generated).
template <class T>
void check_fields_inspected() {
  EXPECT_EQ(inspected_fields<T>(), aggregate_fields<T>())
    << typeid(T).name() << ": inspect() misses a field";
}

/// One property for all types, each run generating a value of every one: a
/// property per type instantiated RapidCheck's checking and shrinking 39
/// times, two fifths of this file's compile time.
template <class... Ts>
void check_round_trips(caf::actor_system& sys) {
  (check_poisoned_fields_refused<Ts>(sys), ...);
  (check_fields_inspected<Ts>(), ...);
  EXPECT_TRUE(rc::check("every type round trips",
                        [&sys] { (round_trip_one<Ts>(sys), ...); }));
}

} // namespace

// -- examples -----------------------------------------------------------------

TEST_F(messages, batch_round_trips_with_every_field) {
  batch b;
  b.batch_id = 42;
  b.op_type = "write";
  b.backend = "notion";
  b.operations = {{1, R"({"title":"a"})"}, {2, std::string(1000, 'x')}};
  b.attempt = 3;
  b.created_at = time_point{std::chrono::milliseconds{1234}};
  b.timeout = std::chrono::seconds{30};
  EXPECT_EQ(round_trip(sys, b), b);
  EXPECT_EQ(message_round_trip(sys, b), b);
}

TEST_F(messages, batch_outcome_keeps_retry_after_and_items) {
  batch_outcome out;
  out.batch_id = 7;
  out.status = batch_status::throttled;
  out.retry_after = std::chrono::seconds{2};
  out.latency = std::chrono::milliseconds{350};
  out.items = {{1, item_status::ok, ""},
               {2, item_status::permanent_failure, "validation_error"}};
  out.message = "rate_limited";
  auto copy = round_trip(sys, out);
  EXPECT_EQ(copy, out);
  EXPECT_EQ(copy.retry_after, std::chrono::seconds{2});
  EXPECT_EQ(copy.items[1].status, item_status::permanent_failure);
}

TEST_F(messages, differing_messages_compare_unequal) {
  job_status a;
  a.job_id = 1;
  auto b = a;
  b.succeeded = 1;
  EXPECT_NE(a, b);
  EXPECT_NE(round_trip(sys, a), b);
}

TEST_F(messages, vectors_of_outcomes_round_trip_in_a_message) {
  std::vector<operation_finished> done{
    {1, 10, 0, operation_state::succeeded, 1, std::chrono::milliseconds{5}, ""},
    {2, 10, 1, operation_state::failed, 4, std::chrono::seconds{1},
     "HTTP 400"}};
  EXPECT_EQ(message_round_trip(sys, done), done);
}

TEST_F(messages, enum_names_parse_back) {
  EXPECT_EQ(to_string(priority::critical), "critical");
  EXPECT_EQ(parse_enum<priority>("low"), priority::low);
  EXPECT_EQ(parse_enum<priority>("urgent"), std::nullopt);
  EXPECT_EQ(to_string(breaker_state::half_open), "half_open");
  EXPECT_EQ(
    enum_choices<strategy_kind>(),
    "conservative, aggressive, adaptive, balanced, static, ml, clipper");
}

TEST_F(messages, terminal_states) {
  EXPECT_FALSE(is_terminal(operation_state::queued));
  EXPECT_FALSE(is_terminal(operation_state::in_flight));
  EXPECT_TRUE(is_terminal(operation_state::succeeded));
  EXPECT_TRUE(is_terminal(operation_state::failed));
  EXPECT_TRUE(is_terminal(operation_state::cancelled));
}

TEST_F(messages, a_priority_without_a_name_does_not_load) {
  // A peer's job with priority 200 would index the batch queue out of
  // bounds; the load refuses it, and nothing registers a bare enum.
  job_submission job{"w", priority::low, {{1, "{}"}}, duration{0}};
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  ASSERT_FALSE(sink(job));
  ASSERT_EQ(buf.at(2), static_cast<char>(priority::low)); // after "w"
  buf[2] = static_cast<char>(200);
  job_submission loaded;
  caf::binary_deserializer source{sys, buf};
  auto err = source(loaded);
  EXPECT_EQ(code_of(err), error_code::bad_request);
  EXPECT_NE(sys.render(err).find("job_submission"), std::string::npos);
  EXPECT_EQ(cfg.value_factories_by_name.count("batching::priority"), 0u);
  // Inside a message, as a peer sends it: message::load reports the error;
  // `source(msg)` (CAF 0.17 routes it through type_erased_tuple's
  // serialize, which drops the error) leaves the message empty. Either way
  // no handler sees the job.
  std::vector<char> msg_buf;
  caf::binary_serializer msg_sink{sys, msg_buf};
  auto msg = caf::make_message(job);
  ASSERT_FALSE(msg_sink(msg));
  auto at = std::search(msg_buf.begin(), msg_buf.end(), buf.begin(),
                        buf.begin() + 2); // "w" where the job starts
  ASSERT_NE(at, msg_buf.end());
  at[2] = static_cast<char>(200);
  caf::message loaded_msg;
  caf::binary_deserializer msg_source{sys, msg_buf};
  EXPECT_EQ(code_of(loaded_msg.load(msg_source)), error_code::bad_request);
  caf::binary_deserializer other_source{sys, msg_buf};
  EXPECT_FALSE(other_source(loaded_msg));
  EXPECT_TRUE(loaded_msg.empty());
}

TEST_F(messages, an_infinity_from_a_peer_does_not_load) {
  // CAF 0.17 reads a double whose exponent bits are all ones as an
  // infinity, and would hang packing it again.
  latency_summary x{0.1, 0.2, 0.3, 0.4, 0.5};
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  ASSERT_FALSE(sink(x));
  ASSERT_EQ(buf.size(), 5u * 8u);
  std::uint64_t inf_bits = 0x7FF0000000000000;
  std::vector<char> patched;
  caf::binary_serializer bits{sys, patched};
  ASSERT_FALSE(bits(inf_bits));
  std::copy(patched.begin(), patched.end(), buf.begin() + 8);
  latency_summary loaded;
  caf::binary_deserializer source{sys, buf};
  EXPECT_EQ(code_of(source(loaded)), error_code::bad_request);
}

TEST_F(messages, errors_render_with_code_and_context) {
  auto err = make_error(error_code::queue_full, "1200 > 1000 queued");
  EXPECT_EQ(code_of(err), error_code::queue_full);
  EXPECT_EQ(sys.render(err), "batching_error(queue_full: 1200 > 1000 queued)");
  EXPECT_EQ(sys.render(make_error(error_code::unknown_job)),
            "batching_error(unknown_job)");
  EXPECT_EQ(code_of(caf::error{}), error_code::none);
  // An error of another category is not ours.
  EXPECT_EQ(code_of(caf::make_error(caf::sec::request_timeout)),
            error_code::none);
}

TEST_F(messages, handles_convert_to_listener_interfaces) {
  // The coordinator and batchers subscribe as listeners; their handles must
  // convert to the narrower interfaces (a compile-time property).
  static_assert(std::is_convertible_v<coordinator_actor, resource_listener>);
  static_assert(std::is_convertible_v<batcher_actor, resource_listener>);
  static_assert(std::is_convertible_v<batcher_actor, breaker_listener>);
  static_assert(std::is_convertible_v<batcher_actor, permit_listener>);
  SUCCEED();
}

// -- properties ---------------------------------------------------------------

TEST_F(messages_property, every_type_round_trips) {
  check_round_trips<
    operation, resource_snapshot, resource_alert, feature_vector,
    training_sample, optimization_target, prediction, latency_summary,
    job_submission, job_status, work_items, operation_finished, batch,
    item_result, batch_outcome, breaker_state_changed, request_completed,
    gate_status, op_ref, operation_events, recommendation, resource_trends,
    prediction_request, optimizer_insights, ab_test_config, ab_test_result,
    load_test_config, type_breakdown, load_test_result, play_report,
    coordinator_status, batching_metrics, performance_metrics, dashboard,
    lease_grant, lease_request, lease_return, throttle_report, cluster_pause>(
    sys);
}
