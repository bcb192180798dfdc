#include "edgeswarm/swarm/swarm.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/core/rng.hpp"
#include "edgeswarm/swarm/wire.hpp"

namespace edgeswarm::swarm {
namespace {

using core::Purpose;
using core::Rng;

constexpr double kDriftEpsilon = 1e-6;
/// Wire flags (wire.hpp): a report that blends the node's model, or a raw sensor reading.
constexpr std::uint16_t kWireModel = 1;
constexpr std::uint16_t kWireReading = 2;
constexpr double kMsPerDay = 86'400'000.0;
/// Krum in star mode compares every pair of reports: beyond this it takes minutes per epoch.
constexpr std::size_t kMaxKrumNodes = 20'000;

using core::require;

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  const std::uint64_t s = a + b;
  return s < a ? std::numeric_limits<std::uint64_t>::max() : s;
}

/// Squared L2 distance in raw Q16 units, saturating instead of overflowing.
std::uint64_t squared_distance(const q16* a, const q16* b, std::size_t d) {
  std::uint64_t acc = 0;
  for (std::size_t j = 0; j < d; ++j) {
    const std::int64_t diff = std::int64_t{a[j]} - b[j];
    const std::uint64_t mag = static_cast<std::uint64_t>(std::min<std::int64_t>(std::llabs(diff), INT32_MAX));
    acc = saturating_add(acc, mag * mag);
  }
  return acc;
}

/// Adapts the trim to the number of reports actually at hand (sleep and bans
/// shrink it), so a run never stops because too few nodes reported.
AggregatorParams fit_to(const AggregatorParams& p, std::size_t m, std::size_t f) {
  AggregatorParams q = p;
  const std::size_t f_max = m == 0 ? 0 : (m - 1) / 2;
  q.trim_count = static_cast<int>(std::min(f, f_max));
  if (p.kind == AggregatorKind::Krum || p.kind == AggregatorKind::MultiKrum) {
    const std::size_t kf = p.krum_f >= 0 ? static_cast<std::size_t>(p.krum_f) : static_cast<std::size_t>(q.trim_count);
    const std::size_t kf_max = m >= 3 ? (m - 3) / 2 : 0;
    q.krum_f = static_cast<int>(std::min(kf, kf_max));
    if (m < 3) q.kind = AggregatorKind::Median;  // Krum needs n > 2f + 2
    if (p.multi_krum_m >= 0) q.multi_krum_m = static_cast<int>(std::min<std::size_t>(p.multi_krum_m, m));
  }
  return q;
}

/// The configured trim per side for m reports.
std::size_t configured_trim(const AggregatorParams& p, std::size_t m) {
  return p.trim_count >= 0 ? static_cast<std::size_t>(p.trim_count)
                           : static_cast<std::size_t>(std::floor(p.trim * static_cast<double>(m)));
}

AggregatorParams fit_to(const AggregatorParams& p, std::size_t m) { return fit_to(p, m, configured_trim(p, m)); }

bool same(const AggregatorParams& a, const AggregatorParams& b) {
  return a.kind == b.kind && a.trim_count == b.trim_count && a.krum_f == b.krum_f && a.multi_krum_m == b.multi_krum_m &&
         a.trim == b.trim && a.clip_tau == b.clip_tau && a.clip_iters == b.clip_iters;
}

/// W-MSR on one coordinate: drop up to f neighbour values above and below the
/// node's own value (the most extreme ones), then average the rest with it.
q16 wmsr(q16 own, q16* values, std::size_t m, std::size_t f) {
  std::sort(values, values + m);
  const auto lo = static_cast<std::size_t>(std::lower_bound(values, values + m, own) - values);
  const auto hi = static_cast<std::size_t>(std::upper_bound(values, values + m, own) - values);
  const std::size_t drop_low = std::min(f, lo);
  const std::size_t drop_high = std::min(f, m - hi);
  std::int64_t sum = own;
  std::int64_t count = 1;
  for (std::size_t k = drop_low; k < m - drop_high; ++k) {
    sum += values[k];
    ++count;
  }
  return fixed::mean_of_sum<std::int64_t>(sum, count);
}

}  // namespace

void validate(const SwarmConfig& c) {
  require(c.n_nodes >= 1 && c.n_nodes <= 50'000'000, "n_nodes", std::to_string(c.n_nodes), "[1, 50000000]");
  require(c.dim >= 1 && c.dim <= 4096, "dim", std::to_string(c.dim), "[1, 4096]");
  require(c.signal.size() == 1 || c.signal.size() == c.dim, "signal",
          "a vector of length " + std::to_string(c.signal.size()), "length 1 or dim (" + std::to_string(c.dim) + ")");
  for (double s : c.signal) {
    require(std::isfinite(s) && s > fixed::kMinReal / 2 && s < fixed::kMaxReal / 2, "signal", s,
            "finite values in (-16384, 16384)");
  }
  require(c.noise_variance >= 0.0 && std::isfinite(c.noise_variance), "noise_variance", c.noise_variance,
          "finite and >= 0");
  require(c.invalid_rate >= 0.0 && c.invalid_rate < 1.0, "invalid_rate", c.invalid_rate, "[0, 1)");
  require(c.residual_range > 0.0 && std::isfinite(c.residual_range), "residual_range", c.residual_range, "> 0");
  require(c.entropy_bins >= 2 && c.entropy_bins <= 4096, "entropy_bins", std::to_string(c.entropy_bins), "[2, 4096]");
  require(c.min_trim >= 0.0 && c.min_trim < 0.5, "min_trim", c.min_trim, "[0, 0.5)");
  require(c.innovation > 0.0 && c.innovation <= 1.0, "innovation", c.innovation, "(0, 1]");
  require(c.epoch_ms >= 1 && c.epoch_ms <= 86'400'000, "epoch_ms", std::to_string(c.epoch_ms), "[1, 86400000]");
  require(c.threads >= 1 && c.threads <= 1024, "threads", std::to_string(c.threads), "[1, 1024]");
  validate(c.aggregator);
  const bool quadratic = c.aggregator.kind == AggregatorKind::Krum || c.aggregator.kind == AggregatorKind::MultiKrum;
  const bool centralised = c.topology.kind == TopologyKind::Complete || c.topology.kind == TopologyKind::Star;
  if (quadratic && centralised && c.n_nodes > kMaxKrumNodes) {
    core::fail("aggregator: " + to_string(c.aggregator.kind) +
               " costs O(n^2) per epoch in star mode; allowed for n_nodes <= " + std::to_string(kMaxKrumNodes) +
               " (got " + std::to_string(c.n_nodes) + "); use a mesh topology or another aggregator");
  }
  validate(c.reputation);
  validate(c.regime);
  validate(c.energy);
  trim_per_side(c.n_nodes, c.aggregator);  // throws when the trim leaves nothing
}

Swarm::Swarm(const SwarmConfig& config)
    : config_((validate(config), config)),
      n_(config.n_nodes),
      d_(config.dim),
      topology_(Topology::build(config.n_nodes, config.topology, config.seed)),
      aggregator_(config.aggregator),
      ledger_(config.n_nodes, config.reputation),
      detector_(config.regime),
      scheduler_(config.n_nodes, config.energy, config.seed, config.epoch_ms) {
  signal_raw_.resize(d_);
  for (std::size_t j = 0; j < d_; ++j) {
    signal_raw_[j] = fixed::from_double(config_.signal.size() == 1 ? config_.signal[0] : config_.signal[j]);
  }
  const std::array<std::size_t, 2> shape{n_, d_};
  readings_ = xt::xtensor<q16, 2>::from_shape(shape);
  reports_ = xt::xtensor<q16, 2>::from_shape(shape);
  models_ = xt::xtensor<q16, 2>::from_shape(shape);
  readings_.fill(0);
  reports_.fill(0);
  models_.fill(0);
  byzantine_.assign(n_, 0);
  awake_.assign(n_, 0);
  valid_.assign(n_, 0);
  reported_.assign(n_, 0);
  sq_distance_.assign(n_, 0);
  bytes_epoch_.assign(n_, 0);
  bytes_total_.assign(n_, 0);
  messages_epoch_.assign(n_, 0);
  reputation_real_.assign(n_, config_.reputation.initial);
  consensus_.assign(d_, 0);
  honest_mean_.assign(d_, 0.0);
  honest_sd_.assign(d_, 0.0);
}

void Swarm::set_threads(int threads) {
  require(threads >= 1 && threads <= 1024, "threads", std::to_string(threads), "[1, 1024]");
  config_.threads = threads;
}

void Swarm::require_idle(const char* action) const {
  if (in_epoch_) {
    throw std::logic_error(std::string(action) + ": an epoch is under way; call finish_epoch() first");
  }
}

void Swarm::inject_byzantine(std::size_t count, const AttackParams& attack) {
  require_idle("inject_byzantine");
  validate(attack);
  std::vector<std::uint32_t> honest;
  honest.reserve(n_);
  for (std::size_t i = 0; i < n_; ++i) {
    if (!byzantine_[i]) honest.push_back(static_cast<std::uint32_t>(i));
  }
  if (count > honest.size()) throw byzantine_count_error(std::to_string(count), honest.size());
  // Partial Fisher-Yates: a uniform sample without replacement, seeded.
  Rng rng(config_.seed, core::stream_id(injections_++, epoch_, static_cast<std::uint64_t>(Purpose::Selection)));
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t pick = k + static_cast<std::size_t>(rng.below(honest.size() - k));
    std::swap(honest[k], honest[pick]);
    byzantine_[honest[k]] = 1;
  }
  attack_ = attack;
}

std::invalid_argument byzantine_count_error(const std::string& count, std::size_t honest) {
  const std::string left = std::to_string(honest);
  if (!count.empty() && count[0] == '-') {
    return std::invalid_argument("count: " + count + " is out of range; allowed [0, " + left +
                                 "] (the honest nodes left)");
  }
  return std::invalid_argument("count: " + count + " exceeds the " + left + " honest nodes left");
}

std::size_t Swarm::honest_nodes() const {
  return n_ - static_cast<std::size_t>(std::count(byzantine_.begin(), byzantine_.end(), std::uint8_t{1}));
}

void Swarm::inject_noise(double intensity, double duration_s) {
  require_idle("inject_noise");
  // A standard deviation beyond the Q16.16 range would only saturate every reading.
  require(intensity >= 0.0 && intensity <= fixed::kMaxReal, "intensity", intensity,
          "finite values in [0, " + core::format_value(fixed::kMaxReal) + "] (the Q16.16 range)");
  const double max_s = kMaxNoiseEpochs * static_cast<double>(config_.epoch_ms) / 1000.0;
  require(duration_s >= 0.0 && duration_s <= max_s, "duration_s", duration_s,
          "finite values in [0, " + core::format_value(max_s) + "] (2^62 epochs of " +
              std::to_string(config_.epoch_ms) + " ms)");
  noise_intensity_ = intensity;
  noise_until_ = epoch_ + static_cast<std::uint64_t>(std::ceil(duration_s * 1000.0 / config_.epoch_ms));
}

double Swarm::state_bytes_per_node() const {
  const double per_node_fixed = 3.0 * 4.0 * d_                       // readings, reports, models
                                + 4 * sizeof(std::uint8_t)           // byzantine, awake, valid, reported
                                + 3 * sizeof(std::uint64_t) + 4 + 8  // distances, bytes, messages, rep.
                                + sizeof(q16) + 1                    // ledger
                                + 4.0 * d_ + 8                       // aggregation batch
                                + 1 + 8 + 4 + 8 + 8;                 // scheduler
  const double topo = static_cast<double>(topology_.offsets().size() * 8 + topology_.neighbours().size() * 4 +
                                          topology_.positions().size() * 8) /
                      static_cast<double>(n_);
  return per_node_fixed + topo;
}

void Swarm::sense() {
  const bool noisy = epoch_ < noise_until_;
  const double sd = std::sqrt(config_.noise_variance + (noisy ? noise_intensity_ * noise_intensity_ : 0.0));
  const double invalid_rate = config_.invalid_rate;
  const bool decentralised = !topology_.centralised();
  const q16 innovation = fixed::from_double(config_.innovation);
  const std::int64_t n = static_cast<std::int64_t>(n_);
  std::size_t invalid = 0;
#pragma omp parallel for schedule(static) num_threads(config_.threads) reduction(+ : invalid)
  for (std::int64_t ii = 0; ii < n; ++ii) {
    const auto i = static_cast<std::size_t>(ii);
    valid_[i] = 0;
    if (!awake_[i]) continue;
    Rng rng = Rng::for_node(config_.seed, i, epoch_, Purpose::Sense);
    bool ok = true;
    for (std::size_t j = 0; j < d_; ++j) {
      if (invalid_rate > 0.0 && rng.uniform() < invalid_rate) ok = false;  // a NaN reading
      readings_(i, j) = fixed::from_double(fixed::to_double(signal_raw_[j]) + sd * rng.normal());
    }
    if (!ok) {
      ++invalid;
      continue;
    }
    valid_[i] = 1;
    for (std::size_t j = 0; j < d_; ++j) {
      if (decentralised && (epoch_ > 0 || has_consensus_)) {
        // Gossip a blend of the model and the fresh reading (consensus + innovation).
        const q16 m = models_(i, j);
        reports_(i, j) = fixed::add(m, fixed::mul(innovation, fixed::sub(readings_(i, j), m)));
      } else {
        reports_(i, j) = readings_(i, j);
      }
    }
  }
  invalid_epoch_ = invalid;
  report_flags_ = decentralised && (epoch_ > 0 || has_consensus_) ? kWireModel : kWireReading;

  // Honest statistics (exact integer sums, so independent of thread count).
  std::vector<std::int64_t> sum(d_, 0);
  honest_count_ = 0;
  for (std::size_t i = 0; i < n_; ++i) {
    if (byzantine_[i] || !valid_[i]) continue;
    ++honest_count_;
    for (std::size_t j = 0; j < d_; ++j) sum[j] += readings_(i, j);
  }
  for (std::size_t j = 0; j < d_; ++j) {
    honest_mean_[j] = honest_count_ ? static_cast<double>(sum[j]) / honest_count_ / fixed::kOne
                                    : std::numeric_limits<double>::quiet_NaN();
  }
  std::vector<double> sq(d_, 0.0);
  for (std::size_t i = 0; i < n_; ++i) {
    if (byzantine_[i] || !valid_[i]) continue;
    for (std::size_t j = 0; j < d_; ++j) {
      const double dv = fixed::to_double(readings_(i, j)) - honest_mean_[j];
      sq[j] += dv * dv;
    }
  }
  for (std::size_t j = 0; j < d_; ++j) honest_sd_[j] = honest_count_ > 1 ? std::sqrt(sq[j] / honest_count_) : 0.0;
}

void Swarm::attack() {
  attack_active_ = false;
  std::vector<std::uint32_t> ids;
  for (std::size_t i = 0; i < n_; ++i) {
    if (byzantine_[i] && valid_[i]) ids.push_back(static_cast<std::uint32_t>(i));
  }
  if (ids.empty() || !attack_active(attack_, epoch_)) return;
  attack_active_ = true;
  std::vector<q16> mimic(d_, 0);
  for (std::size_t i = 0; i < n_; ++i) {  // the lowest-id honest reporter is the one mimicked
    if (!byzantine_[i] && valid_[i]) {
      for (std::size_t j = 0; j < d_; ++j) mimic[j] = reports_(i, j);
      break;
    }
  }
  std::size_t reporting = 0;
  for (std::size_t i = 0; i < n_; ++i) reporting += valid_[i];
  std::vector<q16> rows(ids.size() * d_);
  for (std::size_t r = 0; r < ids.size(); ++r) {
    for (std::size_t j = 0; j < d_; ++j) rows[r * d_ + j] = reports_(ids[r], j);
  }
  // With nothing honest to look at, attackers that copy honest statistics fall back to their bias.
  const std::vector<double> bias_mean(d_, attack_.bias), zero_sd(d_, 0.0);
  HonestView view;
  view.mean = honest_count_ ? honest_mean_.data() : bias_mean.data();
  view.sd = honest_count_ ? honest_sd_.data() : zero_sd.data();
  view.mimic = mimic.data();
  view.n_total = reporting;
  view.n_byzantine = ids.size();
  apply_attack(attack_, view, d_, config_.seed, epoch_, ids.data(), ids.size(), rows.data());
  for (std::size_t r = 0; r < ids.size(); ++r) {
    for (std::size_t j = 0; j < d_; ++j) reports_(ids[r], j) = rows[r * d_ + j];
  }
}

void Swarm::aggregate_centralised(const std::uint8_t* delivered) {
  batch_.clear();
  batch_weights_.clear();
  batch_ids_.clear();
  for (std::size_t i = 0; i < n_; ++i) {
    if (!valid_[i] || !delivered[i] || ledger_.banned(i)) continue;
    batch_ids_.push_back(static_cast<std::uint32_t>(i));
    batch_weights_.push_back(ledger_.reputation_raw(i));
    const q16* row = &reports_(i, 0);
    batch_.insert(batch_.end(), row, row + d_);
  }
  const std::size_t m = batch_ids_.size();
  if (m == 0) return;  // nobody reported: the consensus stands
  std::size_t f = configured_trim(config_.aggregator, m);
  if (config_.adaptive_trim && config_.aggregator.trim_count < 0) {
    const auto budget = static_cast<std::int64_t>(std::floor(config_.aggregator.trim * static_cast<double>(n_))) -
                        static_cast<std::int64_t>(ledger_.banned_count());
    const auto lowest = static_cast<std::int64_t>(std::floor(config_.min_trim * static_cast<double>(m)));
    f = static_cast<std::size_t>(std::clamp(budget, std::min<std::int64_t>(lowest, f), static_cast<std::int64_t>(f)));
  }
  const AggregatorParams fitted = fit_to(config_.aggregator, m, f);
  if (!same(fitted, aggregator_.params())) aggregator_ = Aggregator(fitted);
  std::vector<q16> out(d_);
  aggregator_.aggregate(batch_.data(), m, d_, batch_weights_.data(), has_consensus_ ? consensus_.data() : nullptr,
                        out.data());
  consensus_ = out;
  has_consensus_ = true;
  // The hub broadcasts the consensus; every node awake to hear it adopts it.
  for (std::size_t i = 0; i < n_; ++i) {
    if (awake_[i]) {
      for (std::size_t j = 0; j < d_; ++j) models_(i, j) = consensus_[j];
    }
  }
  hub_bytes_ += message_bytes(d_);
}

void Swarm::aggregate_decentralised(const std::uint8_t* delivered) {
  const AggregatorKind kind = config_.aggregator.kind;
  const bool coordinatewise = kind == AggregatorKind::TrimmedMean || kind == AggregatorKind::Mean ||
                              kind == AggregatorKind::ReputationTrimmedMean;
  const std::int64_t n = static_cast<std::int64_t>(n_);
  xt::xtensor<q16, 2> next = models_;
#pragma omp parallel num_threads(config_.threads)
  {
    std::vector<q16> values, gathered, weights, out(d_);
    Aggregator local(config_.aggregator);
#pragma omp for schedule(static)
    for (std::int64_t ii = 0; ii < n; ++ii) {
      const auto i = static_cast<std::size_t>(ii);
      if (!valid_[i]) continue;
      if (byzantine_[i]) {  // an attacker keeps whatever it claims
        for (std::size_t j = 0; j < d_; ++j) next(i, j) = reports_(i, j);
        continue;
      }
      gathered.clear();
      weights.clear();
      const q16* own = &reports_(i, 0);
      const std::uint32_t* first = topology_.neighbours_begin(i);
      for (const std::uint32_t* p = first; p != topology_.neighbours_end(i); ++p) {
        const std::size_t link = topology_.offsets()[i] + static_cast<std::size_t>(p - first);
        if (!valid_[*p] || !delivered[link] || ledger_.banned(*p)) continue;
        gathered.insert(gathered.end(), &reports_(*p, 0), &reports_(*p, 0) + d_);
        weights.push_back(ledger_.reputation_raw(*p));
      }
      const std::size_t m = weights.size();
      if (m == 0) {
        for (std::size_t j = 0; j < d_; ++j) next(i, j) = own[j];
        continue;
      }
      if (coordinatewise) {
        const std::size_t f = static_cast<std::size_t>(fit_to(config_.aggregator, m + 1).trim_count);
        values.resize(m);
        for (std::size_t j = 0; j < d_; ++j) {
          for (std::size_t k = 0; k < m; ++k) values[k] = gathered[k * d_ + j];
          next(i, j) = wmsr(own[j], values.data(), m, f);
        }
      } else {
        gathered.insert(gathered.end(), own, own + d_);
        weights.push_back(ledger_.reputation_raw(i));
        const AggregatorParams fitted = fit_to(config_.aggregator, m + 1);
        if (!same(fitted, local.params())) local = Aggregator(fitted);
        local.aggregate(gathered.data(), m + 1, d_, weights.data(), &models_(i, 0), out.data());
        for (std::size_t j = 0; j < d_; ++j) next(i, j) = out[j];
      }
    }
  }
  models_ = std::move(next);
  // The swarm's consensus, as the lab sees it: the mean of honest models.
  std::vector<std::int64_t> sum(d_, 0);
  std::int64_t count = 0;
  for (std::size_t i = 0; i < n_; ++i) {
    if (byzantine_[i]) continue;
    ++count;
    for (std::size_t j = 0; j < d_; ++j) sum[j] += models_(i, j);
  }
  if (count > 0) {
    for (std::size_t j = 0; j < d_; ++j) consensus_[j] = fixed::mean_of_sum<std::int64_t>(sum[j], count);
    has_consensus_ = true;
  }
}

void Swarm::account_bandwidth() {
  const std::size_t msg = message_bytes(d_);
  for (std::size_t i = 0; i < n_; ++i) {
    std::uint32_t messages = 0;
    if (valid_[i]) messages = topology_.centralised() ? 1u : static_cast<std::uint32_t>(topology_.degree(i));
    messages_epoch_[i] = messages;
    bytes_epoch_[i] = std::uint64_t{messages} * msg;
    bytes_total_[i] += bytes_epoch_[i];
  }
}

void Swarm::update_reputation(const std::uint8_t* delivered) {
  const std::int64_t n = static_cast<std::int64_t>(n_);
  const bool centralised = topology_.centralised();
#pragma omp parallel num_threads(config_.threads)
  {
    std::vector<q16> values, reference(d_);
    std::vector<std::uint32_t> ids;
#pragma omp for schedule(static)
    for (std::int64_t ii = 0; ii < n; ++ii) {
      const auto i = static_cast<std::size_t>(ii);
      // The hub judges only the reports it received; a mesh node is judged against its neighbourhood's
      // models whatever reached whom, as in-process.
      reported_[i] = valid_[i] && !ledger_.banned(i) && (!centralised || delivered[i]);
      if (!reported_[i]) continue;
      const q16* ref = consensus_.data();
      if (!centralised) {
        // Reference for a node: the coordinate-wise median of its trusted
        // neighbours' new models (no global view in a mesh).
        ids.clear();
        for (const std::uint32_t* p = topology_.neighbours_begin(i); p != topology_.neighbours_end(i); ++p) {
          if (!ledger_.banned(*p)) ids.push_back(*p);
        }
        const std::size_t m = ids.size();
        if (m == 0) {
          reported_[i] = 0;
          continue;
        }
        values.resize(m);
        for (std::size_t j = 0; j < d_; ++j) {
          for (std::size_t k = 0; k < m; ++k) values[k] = models_(ids[k], j);
          std::sort(values.begin(), values.end());
          reference[j] = (m % 2) ? values[m / 2]
                                 : fixed::mean_of_sum<std::int64_t>(std::int64_t{values[m / 2 - 1]} + values[m / 2], 2);
        }
        ref = reference.data();
      }
      sq_distance_[i] = squared_distance(&reports_(i, 0), ref, d_);
    }
  }
  if (config_.use_reputation) ledger_.update(sq_distance_.data(), reported_.data());
  for (std::size_t i = 0; i < n_; ++i) reputation_real_[i] = ledger_.reputation(i);
}

void Swarm::measure() {
  EpochMetrics& m = last_;
  m.epoch = epoch_ + 1;
  m.time_s = static_cast<double>(epoch_ + 1) * config_.epoch_ms / 1000.0;
  m.consensus = consensus_;
  m.honest_mean = honest_mean_;
  double diff_sq = 0.0, mean_sq = 0.0, err_sq = 0.0;
  for (std::size_t j = 0; j < d_; ++j) {
    const double c = fixed::to_double(consensus_[j]);
    diff_sq += (c - honest_mean_[j]) * (c - honest_mean_[j]);
    mean_sq += honest_mean_[j] * honest_mean_[j];
    const double e = c - fixed::to_double(signal_raw_[j]);
    err_sq += e * e;
  }
  m.drift = std::sqrt(diff_sq) / std::max(std::sqrt(mean_sq), kDriftEpsilon);
  m.rmse = std::sqrt(err_sq / d_);

  // Entropy of honest residuals and spread of honest models.
  std::vector<double> residuals;
  residuals.reserve(honest_count_);
  std::vector<double> model_mean(d_, 0.0);
  std::size_t honest_nodes = 0;
  for (std::size_t i = 0; i < n_; ++i) {
    if (byzantine_[i]) continue;
    ++honest_nodes;
    for (std::size_t j = 0; j < d_; ++j) model_mean[j] += fixed::to_double(models_(i, j));
    if (!valid_[i]) continue;
    double r2 = 0.0;
    for (std::size_t j = 0; j < d_; ++j) {
      const double r = fixed::to_double(readings_(i, j)) - fixed::to_double(consensus_[j]);
      r2 += r * r;
    }
    residuals.push_back(std::sqrt(r2 / d_));
  }
  m.entropy = residual_entropy(residuals.data(), residuals.size(), config_.residual_range, config_.entropy_bins);
  double xi = 0.0;
  if (honest_nodes > 0) {
    for (double& v : model_mean) v /= honest_nodes;
    for (std::size_t i = 0; i < n_; ++i) {
      if (byzantine_[i]) continue;
      for (std::size_t j = 0; j < d_; ++j) {
        const double dv = fixed::to_double(models_(i, j)) - model_mean[j];
        xi += dv * dv;
      }
    }
    xi /= honest_nodes;
  }
  m.xi = xi;

  const Regime next = detector_.update(m.entropy);
  escalated_ = static_cast<int>(next) > static_cast<int>(regime_);
  regime_ = next;
  m.regime = regime_;

  m.awake = m.reporting = m.byzantine = m.byzantine_banned = m.honest_banned = 0;
  std::uint64_t total_bytes = 0;
  double energy = 0.0, sleep = 0.0;
  for (std::size_t i = 0; i < n_; ++i) {
    m.awake += awake_[i];
    m.reporting += reported_[i];
    m.byzantine += byzantine_[i];
    if (ledger_.banned(i)) (byzantine_[i] ? m.byzantine_banned : m.honest_banned) += 1;
    total_bytes += bytes_total_[i];
    energy += scheduler_.energy_mj()[i];
    sleep += scheduler_.sleep_ratio(i);
  }
  m.invalid = invalid_epoch_;
  m.banned = ledger_.banned_count();
  const double days = static_cast<double>(epoch_ + 1) * config_.epoch_ms / kMsPerDay;
  m.bytes_per_node_day = static_cast<double>(total_bytes) / n_ / days;
  m.fl_bytes_per_node_day = fl_bytes_per_node_day(d_, config_.epoch_ms);
  m.energy_mj = energy / n_;
  m.sleep_ratio = sleep / n_;
  m.noise_intensity = epoch_ < noise_until_ ? noise_intensity_ : 0.0;
  m.attack_active = attack_active_;
}

void Swarm::begin_epoch() {
  require_idle("begin_epoch");
  scheduler_.plan_epoch(epoch_, regime_, escalated_, reputation_real_.data(), awake_.data());
  sense();
  attack();
  account_bandwidth();
  in_epoch_ = true;
}

bool Swarm::sends(std::size_t node) const {
  require(node < n_, "node", std::to_string(node), "[0, " + std::to_string(n_) + ")");
  return in_epoch_ && valid_[node];
}

std::vector<std::uint8_t> Swarm::outgoing(std::size_t node) const {
  if (!in_epoch_) throw std::logic_error("outgoing: no epoch under way; call begin_epoch() first");
  if (!sends(node)) {
    core::fail("node: " + std::to_string(node) + " sends no report this epoch (asleep or an invalid reading)");
  }
  WireMessage message;
  message.node = static_cast<std::uint32_t>(node);
  message.epoch = static_cast<std::uint32_t>(epoch_);
  message.flags = report_flags_;
  message.values.assign(&reports_(node, 0), &reports_(node, 0) + d_);
  return encode(message);
}

std::size_t Swarm::link_count() const { return topology_.centralised() ? n_ : topology_.neighbours().size(); }

std::uint32_t Swarm::link_sender(std::size_t link) const {
  require(link < link_count(), "link", std::to_string(link), "[0, " + std::to_string(link_count()) + ")");
  return topology_.centralised() ? static_cast<std::uint32_t>(link) : topology_.neighbours()[link];
}

std::uint32_t Swarm::link_receiver(std::size_t link) const {
  require(link < link_count(), "link", std::to_string(link), "[0, " + std::to_string(link_count()) + ")");
  if (topology_.centralised()) return kHubId;
  const auto& offsets = topology_.offsets();
  const auto after = std::upper_bound(offsets.begin(), offsets.end(), static_cast<std::uint64_t>(link));
  return static_cast<std::uint32_t>(after - offsets.begin() - 1);
}

const EpochMetrics& Swarm::finish_epoch(const std::vector<std::uint8_t>& delivered) {
  if (!in_epoch_) throw std::logic_error("finish_epoch: no epoch under way; call begin_epoch() first");
  require(delivered.size() == link_count(), "delivered", "a mask of " + std::to_string(delivered.size()) + " links",
          "one entry per gossip link (" + std::to_string(link_count()) + ")");
  if (topology_.centralised()) {
    aggregate_centralised(delivered.data());
  } else {
    aggregate_decentralised(delivered.data());
  }
  update_reputation(delivered.data());
  scheduler_.charge(awake_.data(), bytes_epoch_.data(), messages_epoch_.data());
  measure();
  ++epoch_;
  in_epoch_ = false;
  return last_;
}

const EpochMetrics& Swarm::step() {
  begin_epoch();
  if (all_delivered_.size() != link_count()) all_delivered_.assign(link_count(), 1);
  return finish_epoch(all_delivered_);
}

std::vector<EpochMetrics> Swarm::run(std::size_t epochs) {
  std::vector<EpochMetrics> out;
  out.reserve(epochs);
  for (std::size_t e = 0; e < epochs; ++e) out.push_back(step());
  return out;
}

}  // namespace edgeswarm::swarm
