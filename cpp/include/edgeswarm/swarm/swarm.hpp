#pragma once
// The swarm: n simulated sensor nodes that agree on a D-dimensional value by
// Byzantine-tolerant Q16.16 aggregation. One epoch is
//   sense -> gossip -> aggregate -> reputation -> regime -> energy.
// SwarmConfig is the immutable model of a run; Swarm holds the mutable state
// and advances it. No clock, no I/O: time is the epoch counter times epoch_ms.
//
// step() runs the gossip in-process. To carry it over a real network, split
// the epoch: begin_epoch() senses and leaves each sender's wire message in
// outgoing(); the caller delivers them as it can and tells finish_epoch()
// which gossip links delivered, and the epoch aggregates only those.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "edgeswarm/core/fixed_point.hpp"
#include "edgeswarm/swarm/aggregators.hpp"
#include "edgeswarm/swarm/attacks.hpp"
#include "edgeswarm/swarm/energy.hpp"
#include "edgeswarm/swarm/regime.hpp"
#include "edgeswarm/swarm/reputation.hpp"
#include "edgeswarm/swarm/topology.hpp"

namespace edgeswarm::swarm {

using fixed::q16;

/// Everything that defines a run; validated once by Swarm's constructor.
struct SwarmConfig {
  std::size_t n_nodes = 100;
  std::size_t dim = 1;
  /// True value per coordinate (one value is broadcast to every coordinate).
  std::vector<double> signal{0.5};
  double noise_variance = 0.02;  ///< per-coordinate sensor noise variance (>= 0)
  double invalid_rate = 0.0;     ///< probability a reading is NaN (counted and skipped), in [0, 1)
  TopologyParams topology;
  AggregatorParams aggregator;
  /// Star mode: count each banned node against the trim budget. The trim
  /// fraction is read as the share of the swarm assumed Byzantine, so f per
  /// side = clamp(floor(trim * n_nodes) - banned, floor(min_trim * m),
  /// floor(trim * m)) for m reports; once the attackers are banned the
  /// aggregate stops discarding honest readings.
  bool adaptive_trim = true;
  double min_trim = 0.05;  ///< floor of the adaptive trim, in [0, trim]
  bool use_reputation = true;
  ReputationParams reputation;
  RegimeParams regime;
  double residual_range = 1.0;  ///< residual scale of the entropy histogram (> 0)
  int entropy_bins = 16;        ///< bins of the entropy histogram (>= 2)
  EnergyParams energy;
  /// Decentralised mode: weight of a node's fresh reading against its model
  /// in the value it gossips, in (0, 1].
  double innovation = 0.5;
  std::int64_t epoch_ms = 500;
  std::uint64_t seed = 0;
  int threads = 1;  ///< worker threads (>= 1); results do not depend on it
};

/// Checks every field; throws std::invalid_argument naming it.
void validate(const SwarmConfig& config);

/// The longest noise storm in epochs (2^62): its end epoch never overflows the epoch counter.
inline constexpr double kMaxNoiseEpochs = 4611686018427387904.0;

/// The error for a Byzantine count outside [0, honest], e.g. "count: 500 exceeds
/// the 70 honest nodes left". `count` is decimal text, so that a binding can
/// report an integer no std::size_t holds (negative, or beyond 2^64).
std::invalid_argument byzantine_count_error(const std::string& count, std::size_t honest);

/// The aggregator's id on a centralised swarm's gossip links (no node has it: n_nodes <= 50,000,000).
inline constexpr std::uint32_t kHubId = 0xFFFFFFFFu;

/// Figures of one epoch (the columns of Swarm.run's DataFrame).
struct EpochMetrics {
  std::uint64_t epoch = 0;
  double time_s = 0.0;              ///< simulated time at the end of the epoch
  std::vector<q16> consensus;       ///< raw Q16.16 consensus (d)
  std::vector<double> honest_mean;  ///< mean of honest awake readings (d)
  double drift = 0.0;               ///< |consensus - honest mean| / max(|honest mean|, eps), L2
  double rmse = 0.0;                ///< sqrt(mean_j (consensus_j - signal_j)^2)
  double xi = 0.0;                  ///< mean squared distance of honest models to their mean
  double entropy = 0.0;             ///< H_t of honest residuals
  Regime regime = Regime::Calm;
  std::size_t awake = 0;      ///< nodes awake this epoch
  std::size_t reporting = 0;  ///< reports used by the aggregate (awake, valid, not banned)
  std::size_t invalid = 0;    ///< NaN/inf readings counted and skipped this epoch
  std::size_t banned = 0;     ///< nodes banned so far
  std::size_t byzantine = 0;  ///< Byzantine nodes so far
  std::size_t byzantine_banned = 0;
  std::size_t honest_banned = 0;
  double bytes_per_node_day = 0.0;     ///< bytes sent per node per simulated day, so far
  double fl_bytes_per_node_day = 0.0;  ///< federated-learning baseline (wire.hpp)
  double energy_mj = 0.0;              ///< mean energy per node so far
  double sleep_ratio = 0.0;            ///< mean share of epochs asleep so far
  double noise_intensity = 0.0;        ///< injected extra noise sd in force this epoch
  bool attack_active = false;
};

class Swarm {
 public:
  explicit Swarm(const SwarmConfig& config);

  const SwarmConfig& config() const { return config_; }
  const Topology& topology() const { return topology_; }

  /// Advances one epoch with every report delivered and returns its figures.
  const EpochMetrics& step();

  /// Starts an epoch: plans sleep, senses, lets attackers forge their reports
  /// and counts the bandwidth of the reports sent. Throws std::logic_error
  /// when an epoch is already under way.
  void begin_epoch();
  /// True between begin_epoch() and finish_epoch().
  bool in_epoch() const { return in_epoch_; }
  /// Whether node `node` sends a report in the epoch under way (awake, valid reading).
  bool sends(std::size_t node) const;
  /// The wire message node `node` sends in the epoch under way (wire.hpp: its
  /// id, the epoch, its report). Throws std::invalid_argument when the node
  /// is out of range or sends nothing, std::logic_error outside an epoch.
  std::vector<std::uint8_t> outgoing(std::size_t node) const;
  /// Gossip links: link k carries link_sender(k)'s report to link_receiver(k).
  /// In a mesh they are the topology's CSR entries (receiver r for offsets[r]
  /// <= k < offsets[r + 1], sender neighbours[k]); in a centralised swarm link
  /// k carries node k's report to the aggregator (receiver kHubId).
  std::size_t link_count() const;
  /// The node whose report link k carries.
  std::uint32_t link_sender(std::size_t link) const;
  /// The node (or kHubId) link k delivers to.
  std::uint32_t link_receiver(std::size_t link) const;
  /// Ends the epoch begun: aggregates with, for each receiver, only the
  /// reports whose link has `delivered[k]` != 0 (a report not delivered is
  /// treated like an invalid neighbour's for that receiver), then reputation,
  /// energy and figures. Throws std::invalid_argument when `delivered` does
  /// not hold link_count() entries, std::logic_error outside an epoch.
  const EpochMetrics& finish_epoch(const std::vector<std::uint8_t>& delivered);
  /// Advances `epochs` epochs, returning each one's figures.
  std::vector<EpochMetrics> run(std::size_t epochs);

  /// Turns `count` randomly chosen honest nodes Byzantine with `attack`
  /// (all Byzantine nodes then use it). Throws std::invalid_argument when
  /// count exceeds the honest nodes left or `attack` is invalid.
  void inject_byzantine(std::size_t count, const AttackParams& attack);
  /// Adds Gaussian noise of standard deviation `intensity` (real units, in
  /// [0, Q16.16 max]) to every reading for `duration_s` simulated seconds
  /// (finite, >= 0, at most kMaxNoiseEpochs epochs) from the next epoch; a
  /// duration of 0 ends a storm in progress. Throws std::invalid_argument
  /// naming the parameter otherwise.
  void inject_noise(double intensity, double duration_s);
  /// Nodes not (yet) Byzantine.
  std::size_t honest_nodes() const;
  /// Sets the worker thread count (>= 1).
  void set_threads(int threads);

  std::uint64_t epoch() const { return epoch_; }
  const std::vector<q16>& consensus() const { return consensus_; }
  const EpochMetrics& last() const { return last_; }
  /// Per-node state (row-major n x d where two-dimensional).
  const xt::xtensor<q16, 2>& reports() const { return reports_; }
  const xt::xtensor<q16, 2>& models() const { return models_; }
  const std::vector<std::uint8_t>& byzantine() const { return byzantine_; }
  const std::vector<std::uint8_t>& awake() const { return awake_; }
  const ReputationLedger& reputation() const { return ledger_; }
  const SleepScheduler& scheduler() const { return scheduler_; }
  const std::vector<std::uint64_t>& bytes_sent() const { return bytes_total_; }
  /// Approximate bytes of state held per node (all per-node arrays and the
  /// node's share of the topology).
  double state_bytes_per_node() const;

 private:
  void sense();
  void attack();
  void aggregate_centralised(const std::uint8_t* delivered);
  void aggregate_decentralised(const std::uint8_t* delivered);
  void require_idle(const char* action) const;
  void account_bandwidth();
  void update_reputation(const std::uint8_t* delivered);
  void measure();

  SwarmConfig config_;
  std::size_t n_, d_;
  Topology topology_;
  Aggregator aggregator_;
  ReputationLedger ledger_;
  RegimeDetector detector_;
  SleepScheduler scheduler_;
  AttackParams attack_;
  std::vector<q16> signal_raw_;

  std::uint64_t epoch_ = 0;
  Regime regime_ = Regime::Calm;
  bool escalated_ = false;
  double noise_intensity_ = 0.0;
  std::uint64_t noise_until_ = 0;  ///< first epoch without injected noise
  std::uint64_t injections_ = 0;

  xt::xtensor<q16, 2> readings_;  ///< what each node sensed this epoch
  xt::xtensor<q16, 2> reports_;   ///< what each node sent this epoch
  xt::xtensor<q16, 2> models_;    ///< each node's current estimate
  std::vector<std::uint8_t> byzantine_, awake_, valid_, reported_;
  std::vector<std::uint64_t> sq_distance_;
  std::vector<std::uint64_t> bytes_epoch_, bytes_total_;
  std::vector<std::uint32_t> messages_epoch_;
  std::vector<double> reputation_real_;
  std::vector<q16> consensus_;
  bool has_consensus_ = false;
  std::vector<q16> batch_;  ///< gathered reports for the aggregator
  std::vector<q16> batch_weights_;
  std::vector<std::uint32_t> batch_ids_;
  std::vector<double> honest_mean_, honest_sd_;
  std::size_t honest_count_ = 0;
  std::size_t invalid_epoch_ = 0;
  bool attack_active_ = false;
  std::uint64_t hub_bytes_ = 0;
  bool in_epoch_ = false;
  std::uint16_t report_flags_ = 0;  ///< wire flags of this epoch's reports
  std::vector<std::uint8_t> all_delivered_;
  EpochMetrics last_;
};

}  // namespace edgeswarm::swarm
