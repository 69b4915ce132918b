#include "messages/registration.hpp"

#include <caf/actor_system_config.hpp>

#include "messages/error.hpp"
#include "messages/interfaces.hpp"

namespace batching {

void register_types(caf::actor_system_config& cfg) {
  cfg
    // (no bare enums: no message carries one, and a peer's bytes could
    // make any number of one; enum fields are checked on load, messages.hpp)
    // vocabulary
    .add_message_type<operation>("batching::operation")
    .add_message_type<resource_snapshot>("batching::resource_snapshot")
    .add_message_type<resource_alert>("batching::resource_alert")
    .add_message_type<feature_vector>("batching::feature_vector")
    .add_message_type<training_sample>("batching::training_sample")
    .add_message_type<optimization_target>("batching::optimization_target")
    .add_message_type<prediction>("batching::prediction")
    .add_message_type<latency_summary>("batching::latency_summary")
    // messages
    .add_message_type<job_submission>("batching::job_submission")
    .add_message_type<job_status>("batching::job_status")
    .add_message_type<work_items>("batching::work_items")
    .add_message_type<operation_finished>("batching::operation_finished")
    .add_message_type<batch>("batching::batch")
    .add_message_type<item_result>("batching::item_result")
    .add_message_type<batch_outcome>("batching::batch_outcome")
    .add_message_type<breaker_state_changed>("batching::breaker_state_changed")
    .add_message_type<request_completed>("batching::request_completed")
    .add_message_type<gate_status>("batching::gate_status")
    .add_message_type<sizing_change>("batching::sizing_change")
    .add_message_type<op_ref>("batching::op_ref")
    .add_message_type<operation_events>("batching::operation_events")
    .add_message_type<recommendation>("batching::recommendation")
    .add_message_type<resource_trends>("batching::resource_trends")
    .add_message_type<prediction_request>("batching::prediction_request")
    .add_message_type<optimizer_insights>("batching::optimizer_insights")
    .add_message_type<model_report>("batching::model_report")
    .add_message_type<ab_test_config>("batching::ab_test_config")
    .add_message_type<ab_test_result>("batching::ab_test_result")
    .add_message_type<load_test_config>("batching::load_test_config")
    .add_message_type<type_breakdown>("batching::type_breakdown")
    .add_message_type<load_test_result>("batching::load_test_result")
    .add_message_type<play_report>("batching::play_report")
    .add_message_type<coordinator_status>("batching::coordinator_status")
    .add_message_type<batching_metrics>("batching::batching_metrics")
    .add_message_type<performance_metrics>("batching::performance_metrics")
    .add_message_type<dashboard>("batching::dashboard")
    .add_message_type<lease_grant>("batching::lease_grant")
    .add_message_type<lease_request>("batching::lease_request")
    .add_message_type<lease_return>("batching::lease_return")
    .add_message_type<throttle_report>("batching::throttle_report")
    .add_message_type<cluster_pause>("batching::cluster_pause")
    // handles that travel inside messages
    .add_message_type<executor_actor>("batching::executor_actor")
    .add_message_type<breaker_listener>("batching::breaker_listener")
    .add_message_type<permit_listener>("batching::permit_listener")
    .add_message_type<events_listener>("batching::events_listener")
    .add_message_type<circuit_breaker_actor>("batching::circuit_breaker_actor")
    .add_message_type<resource_listener>("batching::resource_listener")
    .add_message_type<resource_sampler_actor>(
      "batching::resource_sampler_actor")
    .add_message_type<batcher_actor>("batching::batcher_actor")
    .add_message_type<coordinator_actor>("batching::coordinator_actor")
    .add_message_type<optimizer_actor>("batching::optimizer_actor")
    .add_message_type<model_actor>("batching::model_actor")
    .add_message_type<load_generator_actor>("batching::load_generator_actor")
    .add_message_type<budget_listener>("batching::budget_listener")
    .add_message_type<budget_authority_actor>(
      "batching::budget_authority_actor")
    .add_message_type<cluster_entry_actor>("batching::cluster_entry_actor")
    .add_message_type<worker_registration>("batching::worker_registration")
    .add_message_type<cluster_directory>("batching::cluster_directory");
  cfg.add_error_category(error_category, [](std::uint8_t code, caf::atom_value,
                                            const caf::message& context) {
    return render_error(code, context);
  });
}

} // namespace batching
