// Device fleet: batch signal generation, device snapshots, alert rules and
// location clustering.
#include <Python.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "edgeswarm/fleet/alert_rules.hpp"
#include "edgeswarm/fleet/clustering.hpp"
#include "edgeswarm/fleet/fleet.hpp"
#include "edgeswarm/fleet/signal.hpp"

namespace edgeswarm::bindings {
namespace {

using namespace edgeswarm::fleet;

std::uint64_t to_u64(const py::int_& v, const char* name) {
  const unsigned long long x = PyLong_AsUnsignedLongLong(v.ptr());
  if (PyErr_Occurred()) {
    PyErr_Clear();
    throw std::invalid_argument(std::string(name) + ": " + std::string(py::str(v)) +
                                " is out of range; allowed integers in [0, 2^64)");
  }
  return static_cast<std::uint64_t>(x);
}

template <std::size_t N>
std::array<double, N> to_mix(const std::vector<double>& w, const char* name) {
  if (w.size() != N) {
    throw std::invalid_argument(std::string(name) + ": " + std::to_string(w.size()) +
                                " weights given; allowed exactly " + std::to_string(N));
  }
  std::array<double, N> out{};
  std::copy(w.begin(), w.end(), out.begin());
  return out;
}

py::array_t<double, py::array::c_style> require_float64(const py::array& a, const char* name, int ndim) {
  if (a.dtype().kind() != 'f' && a.dtype().kind() != 'i' && a.dtype().kind() != 'u') {
    throw std::invalid_argument(std::string(name) + ": expected a float64 array, got dtype " +
                                std::string(py::str(a.dtype())));
  }
  if (a.ndim() != ndim) {
    throw std::invalid_argument(std::string(name) + ": expected a " + std::to_string(ndim) + "-D array, got " +
                                std::to_string(a.ndim()) + "-D");
  }
  return py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
}

py::dict clustering_dict(const Clustering& c) {
  py::dict d;
  d["labels"] = py::array_t<std::int32_t>(static_cast<py::ssize_t>(c.labels.size()), c.labels.data());
  py::array_t<double> centroids({c.centroids.rows(), c.centroids.cols()});
  std::copy(c.centroids.data(), c.centroids.data() + c.centroids.size(), centroids.mutable_data());
  d["centroids"] = centroids;
  d["heads"] = py::array_t<std::int64_t>(static_cast<py::ssize_t>(c.heads.size()), c.heads.data());
  d["sizes"] = py::array_t<std::int64_t>(static_cast<py::ssize_t>(c.sizes.size()), c.sizes.data());
  d["iterations"] = c.iterations;
  d["converged"] = c.converged;
  d["inertia"] = c.inertia;
  return d;
}

template <typename T>
py::array_t<T> column(std::size_t n) {
  return py::array_t<T>(static_cast<py::ssize_t>(n));
}

}  // namespace

void bind_fleet(py::module_& m) {
  {
    py::list devices, sensors, units, faults, metrics, alerts, severities;
    for (int i = 0; i < kDeviceTypes; ++i) devices.append(to_string(static_cast<DeviceType>(i)));
    for (int i = 0; i < kSensorTypes; ++i) {
      sensors.append(to_string(static_cast<SensorType>(i)));
      units.append(sensor_spec(static_cast<SensorType>(i)).unit);
    }
    for (int i = 0; i < kFaults; ++i) faults.append(to_string(static_cast<Fault>(i)));
    for (int i = 0; i < kMetrics; ++i) metrics.append(to_string(static_cast<Metric>(i)));
    for (int i = 0; i < kAlertTypes; ++i) alerts.append(to_string(static_cast<AlertType>(i)));
    for (int i = 0; i < 3; ++i) severities.append(to_string(static_cast<Severity>(i)));
    m.attr("DEVICE_TYPES") = py::tuple(devices);
    m.attr("SENSOR_TYPES") = py::tuple(sensors);
    m.attr("SENSOR_UNITS") = py::tuple(units);
    m.attr("FAULT_LABELS") = py::tuple(faults);
    m.attr("ALERT_METRICS") = py::tuple(metrics);
    m.attr("ALERT_TYPES") = py::tuple(alerts);
    m.attr("ALERT_SEVERITIES") = py::tuple(severities);
  }

  const FleetParams d;
  py::class_<Fleet>(m, "FleetEngine",
                    "A device fleet whose parameters and readings are pure functions of (seed, device id, time). "
                    "Codes index DEVICE_TYPES, SENSOR_TYPES and FAULT_LABELS.")
      .def(py::init([](std::size_t n_devices, const py::int_& seed, const std::vector<double>& device_mix,
                       const std::vector<double>& sensor_mix, const std::optional<std::string>& sensor, double area_m,
                       double fault_rate_per_day, double wear_fraction, double wear_horizon_days,
                       double outage_rate_per_day, double report_interval_s, std::uint32_t buffer_capacity,
                       double flush_rate_per_s, double offline_dbm) {
             FleetParams p;
             p.device_mix = to_mix<kDeviceTypes>(device_mix, "device_mix");
             p.sensor_mix = to_mix<kSensorTypes>(sensor_mix, "sensor_mix");
             p.area_m = area_m;
             p.fault_rate_per_day = fault_rate_per_day;
             p.wear_fraction = wear_fraction;
             p.wear_horizon_days = wear_horizon_days;
             p.outage_rate_per_day = outage_rate_per_day;
             p.report_interval_s = report_interval_s;
             p.buffer_capacity = buffer_capacity;
             p.flush_rate_per_s = flush_rate_per_s;
             p.offline_dbm = offline_dbm;
             const std::uint64_t s = to_u64(seed, "seed");
             if (sensor) return Fleet(n_devices, s, parse_sensor_type(*sensor, "sensor"), p);
             return Fleet(n_devices, s, p);
           }),
           py::arg("n_devices"), py::kw_only(), py::arg("seed"),
           py::arg("device_mix") = std::vector<double>(d.device_mix.begin(), d.device_mix.end()),
           py::arg("sensor_mix") = std::vector<double>(d.sensor_mix.begin(), d.sensor_mix.end()),
           py::arg("sensor") = py::none(), py::arg("area_m") = d.area_m,
           py::arg("fault_rate_per_day") = d.fault_rate_per_day, py::arg("wear_fraction") = d.wear_fraction,
           py::arg("wear_horizon_days") = d.wear_horizon_days, py::arg("outage_rate_per_day") = d.outage_rate_per_day,
           py::arg("report_interval_s") = d.report_interval_s, py::arg("buffer_capacity") = d.buffer_capacity,
           py::arg("flush_rate_per_s") = d.flush_rate_per_s, py::arg("offline_dbm") = d.offline_dbm,
           "n_devices devices drawn from `seed`; `sensor` fixes every device's sensor type (else sensor_mix).")
      .def(
          "generate",
          [](const Fleet& f, std::int64_t t0_us, std::size_t steps, std::int64_t dt_us) {
            py::array_t<double> values({static_cast<py::ssize_t>(f.size()), static_cast<py::ssize_t>(steps)});
            py::array_t<std::uint8_t> labels({static_cast<py::ssize_t>(f.size()), static_cast<py::ssize_t>(steps)});
            double* v = values.mutable_data();
            std::uint8_t* l = labels.mutable_data();
            {
              py::gil_scoped_release release;
              generate(f, t0_us, steps, dt_us, v, l);
            }
            return py::make_tuple(values, labels);
          },
          py::arg("t0_us"), py::arg("steps"), py::arg("dt_us"),
          "(values float64 (n, steps), labels uint8 (n, steps)) at t0_us + k * dt_us; NaN for dropout, failure and "
          "empty battery.")
      .def(
          "devices",
          [](const Fleet& f, std::int64_t t_us) {
            const std::size_t n = f.size();
            auto id = column<std::int64_t>(n);
            auto type = column<std::uint8_t>(n), sensor = column<std::uint8_t>(n);
            auto online = column<bool>(n);
            auto x = column<double>(n), y = column<double>(n), battery = column<double>(n), health = column<double>(n),
                 signal = column<double>(n), noise = column<double>(n), util = column<double>(n);
            auto buffered = column<std::uint32_t>(n);
            auto dropped = column<std::uint64_t>(n);
            auto onset = column<std::int64_t>(n), failure = column<std::int64_t>(n);
            const double cap = f.params().buffer_capacity;
            for (std::size_t i = 0; i < n; ++i) {
              const Device& dv = f.device(i);
              const DeviceState s = f.state(i, t_us);
              id.mutable_data()[i] = dv.id;
              type.mutable_data()[i] = static_cast<std::uint8_t>(dv.type);
              sensor.mutable_data()[i] = static_cast<std::uint8_t>(dv.sensor);
              x.mutable_data()[i] = dv.x;
              y.mutable_data()[i] = dv.y;
              battery.mutable_data()[i] = s.battery_pct;
              health.mutable_data()[i] = s.health;
              signal.mutable_data()[i] = dv.signal_dbm;
              online.mutable_data()[i] = s.online;
              buffered.mutable_data()[i] = s.buffered;
              util.mutable_data()[i] = s.buffered / cap;
              dropped.mutable_data()[i] = s.dropped;
              noise.mutable_data()[i] = dv.noise_sd;
              onset.mutable_data()[i] = dv.wear_onset_us;
              failure.mutable_data()[i] = dv.failure_us;
            }
            py::dict out;
            out["id"] = id;
            out["type"] = type;
            out["sensor"] = sensor;
            out["x"] = x;
            out["y"] = y;
            out["battery"] = battery;
            out["health"] = health;
            out["signal_strength"] = signal;
            out["online"] = online;
            out["buffered"] = buffered;
            out["buffer_utilisation"] = util;
            out["dropped"] = dropped;
            out["noise_sd"] = noise;
            out["wear_onset_us"] = onset;
            out["failure_us"] = failure;
            return out;
          },
          py::arg("t_us"),
          "Per-device columns at t_us (dict of arrays): id, type and sensor codes, x, y, battery (%), health, "
          "signal_strength (dBm), online, buffered, buffer_utilisation, dropped, noise_sd, wear_onset_us and "
          "failure_us (INT64_MAX when the device does not wear).")
      .def_property_readonly("size", &Fleet::size, "Number of devices.")
      .def("__len__", &Fleet::size)
      .def_property_readonly("seed", &Fleet::seed, "The seed the fleet was built from.")
      .def("__repr__", [](const Fleet& f) {
        return "FleetEngine(n_devices=" + std::to_string(f.size()) + ", seed=" + std::to_string(f.seed()) + ")";
      });

  const AlertRules r;
  m.def(
      "evaluate_alerts",
      [](const py::array& values, const py::array& metrics, double temperature_low, double temperature_high,
         double humidity_low, double humidity_high, double battery_low, double battery_high, double vibration_low,
         double vibration_high, double warning_band) {
        AlertRules rules{temperature_low, temperature_high, humidity_low,   humidity_high, battery_low,
                         battery_high,    vibration_low,    vibration_high, warning_band};
        rules.validate();
        auto v = require_float64(values, "values", 2);
        if (metrics.dtype().kind() != 'u' && metrics.dtype().kind() != 'i') {
          throw std::invalid_argument("metrics: expected integer metric codes, got dtype " +
                                      std::string(py::str(metrics.dtype())));
        }
        auto mc = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(metrics);
        const auto rows = static_cast<std::size_t>(v.shape(0)), cols = static_cast<std::size_t>(v.shape(1));
        if (mc.ndim() != 1 || static_cast<std::size_t>(mc.shape(0)) != rows) {
          throw std::invalid_argument("metrics: expected shape (" + std::to_string(rows) + ",), one code per row");
        }
        std::vector<Metric> ms(rows);
        for (std::size_t i = 0; i < rows; ++i) {
          const std::int64_t c = mc.data()[i];
          if (c < 0 || c >= kMetrics) {
            throw std::invalid_argument("metrics: code " + std::to_string(c) + " at row " + std::to_string(i) +
                                        " is out of range; allowed 0..3 (ALERT_METRICS)");
          }
          ms[i] = static_cast<Metric>(c);
        }
        py::array_t<std::uint8_t> types({v.shape(0), v.shape(1)}), sev({v.shape(0), v.shape(1)});
        const double* src = v.data();
        std::uint8_t* t = types.mutable_data();
        std::uint8_t* s = sev.mutable_data();
        {
          py::gil_scoped_release release;
          evaluate(rules, ms.data(), src, rows, cols, t, s);
        }
        return py::make_tuple(types, sev);
      },
      py::arg("values"), py::arg("metrics"), py::kw_only(), py::arg("temperature_low") = r.temperature_low,
      py::arg("temperature_high") = r.temperature_high, py::arg("humidity_low") = r.humidity_low,
      py::arg("humidity_high") = r.humidity_high, py::arg("battery_low") = r.battery_low,
      py::arg("battery_high") = r.battery_high, py::arg("vibration_low") = r.vibration_low,
      py::arg("vibration_high") = r.vibration_high, py::arg("warning_band") = r.warning_band,
      "(alert type codes, severity codes), uint8 (rows, cols), for float64 values (rows, cols) whose row r holds "
      "metric code metrics[r] (ALERT_METRICS). Warning up to warning_band * (high - low) beyond a limit.");

  m.def(
      "kmeans",
      [](const py::array& positions, std::size_t k, const py::int_& seed, int max_iter) {
        auto p = require_float64(positions, "positions", 2);
        const std::uint64_t s = to_u64(seed, "seed");
        Eigen::Map<const Positions> map(p.data(), p.shape(0), p.shape(1));
        Clustering c;
        {
          py::gil_scoped_release release;
          c = kmeans(map, k, s, max_iter);
        }
        return clustering_dict(c);
      },
      py::arg("positions"), py::arg("k"), py::kw_only(), py::arg("seed"), py::arg("max_iter") = 100,
      "Seeded k-means (k-means++ then Lloyd) of float64 (n, d) positions: dict with labels, centroids, heads "
      "(member nearest each centroid, ties to the lower id), sizes, iterations, converged, inertia.");
  m.def(
      "grid_clusters",
      [](const py::array& positions, double cell_size) {
        auto p = require_float64(positions, "positions", 2);
        Eigen::Map<const Positions> map(p.data(), p.shape(0), p.shape(1));
        return clustering_dict(grid_clusters(map, cell_size));
      },
      py::arg("positions"), py::kw_only(), py::arg("cell_size"),
      "Square grid cells of side cell_size anchored at the origin, numbered by first device; same dict as kmeans.");
}

}  // namespace edgeswarm::bindings
