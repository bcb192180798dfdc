#pragma once
// Shared declarations for the _core module: one bind_<concept>.cpp per concept,
// each registering its part of the module. std::invalid_argument thrown by the
// engine reaches Python as ValueError (pybind11's built-in translation).

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "edgeswarm/swarm/attacks.hpp"

namespace edgeswarm::bindings {

namespace py = pybind11;

void bind_core(py::module_& m);
void bind_topology(py::module_& m);
void bind_aggregators(py::module_& m);
void bind_attacks(py::module_& m);
void bind_regime(py::module_& m);
void bind_energy(py::module_& m);
void bind_swarm(py::module_& m);
void bind_net(py::module_& m);
void bind_raft(py::module_& m);
void bind_ml(py::module_& m);
void bind_fleet(py::module_& m);
void bind_quality_control(py::module_& m);
void bind_maintenance(py::module_& m);

/// Validated attack parameters from the keyword arguments shared by
/// _core.apply_attack and Swarm.inject_byzantine.
swarm::AttackParams attack_params(const std::string& attack, double bias, double jitter, double scale, double sigma,
                                  double alie_z, double ipm_epsilon, int on_epochs, int off_epochs);

/// A C-contiguous int32 array of `ndim` dimensions, or ValueError naming `name`.
inline py::array_t<std::int32_t, py::array::c_style> require_int32(const py::array& a, const char* name, int ndim) {
  if (a.dtype().kind() != 'i' || a.dtype().itemsize() != 4) {
    throw std::invalid_argument(std::string(name) + ": expected dtype int32 (raw Q16.16), got " +
                                std::string(py::str(a.dtype())));
  }
  if (a.ndim() != ndim) {
    throw std::invalid_argument(std::string(name) + ": expected a " + std::to_string(ndim) + "-D array, got " +
                                std::to_string(a.ndim()) + "-D");
  }
  return py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>::ensure(a);
}

}  // namespace edgeswarm::bindings
