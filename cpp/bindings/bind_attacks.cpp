// Byzantine attacks: one batched call rewrites the attackers' k x d reports.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "edgeswarm/swarm/attacks.hpp"

namespace edgeswarm::bindings {
namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

std::size_t non_negative(std::int64_t value, const char* name) {
  if (value < 0) {
    throw std::invalid_argument(std::string(name) + ": " + std::to_string(value) + " is out of range; allowed >= 0");
  }
  return static_cast<std::size_t>(value);
}

/// A C-contiguous float64 vector of length d, or ValueError naming `name`; None stays empty.
std::optional<DoubleArray> optional_vector(const py::object& value, const char* name, std::size_t d) {
  if (value.is_none()) return std::nullopt;
  auto a = DoubleArray::ensure(value);
  if (!a) throw std::invalid_argument(std::string(name) + ": expected a float64 array of shape (d,)");
  if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != d) {
    throw std::invalid_argument(std::string(name) + ": expected shape (" + std::to_string(d) + ",), got " +
                                std::string(py::str(a.attr("shape"))));
  }
  return a;
}

py::array apply_attack(const py::array& reports, const std::string& attack, const py::array& node_ids,
                       const py::object& honest_mean, const py::object& honest_sd, std::int64_t n_total,
                       std::int64_t n_byzantine, std::uint64_t epoch, std::uint64_t seed, const py::object& mimic,
                       double bias, double jitter, double scale, double sigma, double alie_z, double ipm_epsilon,
                       int on_epochs, int off_epochs) {
  const auto params = attack_params(attack, bias, jitter, scale, sigma, alie_z, ipm_epsilon, on_epochs, off_epochs);
  auto in = require_int32(reports, "reports", 2);
  const auto k = static_cast<std::size_t>(in.shape(0));
  const auto d = static_cast<std::size_t>(in.shape(1));
  if (node_ids.dtype().kind() != 'u' || node_ids.dtype().itemsize() != 4) {
    throw std::invalid_argument("node_ids: expected dtype uint32, got " + std::string(py::str(node_ids.dtype())));
  }
  if (node_ids.ndim() != 1 || static_cast<std::size_t>(node_ids.shape(0)) != k) {
    throw std::invalid_argument("node_ids: expected shape (" + std::to_string(k) +
                                ",) to match the rows of reports, got " + std::string(py::str(node_ids.attr("shape"))));
  }
  auto ids = py::array_t<std::uint32_t, py::array::c_style | py::array::forcecast>::ensure(node_ids);
  const auto mean = optional_vector(honest_mean, "honest_mean", d);
  const auto sd = optional_vector(honest_sd, "honest_sd", d);
  std::optional<py::array_t<std::int32_t, py::array::c_style>> copied;
  if (!mimic.is_none()) {
    auto a = require_int32(py::array::ensure(mimic), "mimic", 1);
    if (static_cast<std::size_t>(a.shape(0)) != d) {
      throw std::invalid_argument("mimic: expected shape (" + std::to_string(d) + ",), got (" +
                                  std::to_string(a.shape(0)) + ",)");
    }
    copied = a;
  }

  swarm::HonestView honest;
  honest.mean = mean ? mean->data() : nullptr;
  honest.sd = sd ? sd->data() : nullptr;
  honest.mimic = copied ? copied->data() : nullptr;
  honest.n_total = non_negative(n_total, "n_total");
  honest.n_byzantine = non_negative(n_byzantine, "n_byzantine");

  py::array_t<std::int32_t> out({static_cast<py::ssize_t>(k), static_cast<py::ssize_t>(d)});
  std::copy(in.data(), in.data() + k * d, out.mutable_data());
  std::int32_t* dst = out.mutable_data();
  const std::uint32_t* id_ptr = ids.data();
  {
    py::gil_scoped_release release;
    swarm::apply_attack(params, honest, d, seed, epoch, id_ptr, k, dst);
  }
  return out;
}

}  // namespace

swarm::AttackParams attack_params(const std::string& attack, double bias, double jitter, double scale, double sigma,
                                  double alie_z, double ipm_epsilon, int on_epochs, int off_epochs) {
  swarm::AttackParams p;
  p.kind = swarm::parse_attack(attack);
  p.bias = bias;
  p.jitter = jitter;
  p.scale = scale;
  p.sigma = sigma;
  p.alie_z = alie_z;
  p.ipm_epsilon = ipm_epsilon;
  p.on_epochs = on_epochs;
  p.off_epochs = off_epochs;
  swarm::validate(p);
  return p;
}

void bind_attacks(py::module_& m) {
  py::tuple names(swarm::kAttackKinds.size());
  for (std::size_t i = 0; i < swarm::kAttackKinds.size(); ++i) names[i] = swarm::to_string(swarm::kAttackKinds[i]);
  m.attr("ATTACKS") = names;

  m.def("apply_attack", &apply_attack, py::arg("reports"), py::kw_only(), py::arg("attack"), py::arg("node_ids"),
        py::arg("honest_mean"), py::arg("honest_sd"), py::arg("n_total"), py::arg("n_byzantine"), py::arg("epoch"),
        py::arg("seed"), py::arg("mimic") = py::none(), py::arg("bias") = 0.9, py::arg("jitter") = 0.01,
        py::arg("scale") = 1.0, py::arg("sigma") = 1.0, py::arg("alie_z") = -1.0, py::arg("ipm_epsilon") = 0.5,
        py::arg("on_epochs") = 5, py::arg("off_epochs") = 5,
        "Returns the attackers' reports (int32 raw Q16.16, k x d) for `epoch`: a new array; `reports` holds "
        "each attacker's own honest reading on entry and is not modified. node_ids (uint32, k) name the rows' "
        "nodes, whose (seed, node, epoch) streams drive the random attacks. honest_mean / honest_sd (float64, "
        "d) and mimic (int32, d) may be None when the attack does not use them. Bad input raises ValueError.");

  m.def(
      "attack_active",
      [](std::uint64_t epoch, const std::string& attack, int on_epochs, int off_epochs) {
        const auto p = attack_params(attack, 0.9, 0.01, 1.0, 1.0, -1.0, 0.5, on_epochs, off_epochs);
        return swarm::attack_active(p, epoch);
      },
      py::arg("epoch"), py::kw_only(), py::arg("attack"), py::arg("on_epochs") = 5, py::arg("off_epochs") = 5,
      "Whether `attack` is active at `epoch`: always, except in the honest phase of intermittent "
      "(epoch mod (on_epochs + off_epochs) >= on_epochs).");

  m.def(
      "alie_z",
      [](std::int64_t n, std::int64_t m) { return swarm::alie_z(non_negative(n, "n"), non_negative(m, "m")); },
      py::arg("n"), py::arg("m"),
      "The ALIE z for n reports of which m are Byzantine: s = floor(n/2 + 1) - m, z = Phi^-1((n - s) / n), "
      "with the probability clamped to [1/(2n), 1 - 1/(2n)].");
}

}  // namespace edgeswarm::bindings
