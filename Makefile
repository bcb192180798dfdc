# make demo · make test · make bench · make lint — each installs what is missing first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMPS := .stamps
JOBS ?= 2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
OS_PACKAGES := g++ cmake make python3-venv python3-dev libeigen3-dev libxtensor-dev libgtest-dev libbenchmark-dev clang-format chromium mosquitto
ENGINE_SOURCES := $(shell find cpp -name '*.cpp' -o -name '*.hpp') CMakeLists.txt pyproject.toml

.PHONY: demo demo-cli test test-cpp test-py bench bench-cpp soak lint format stubs clean

# The live service: a 100-node swarm, the REST / WebSocket API and the dashboard at http://localhost:8080
demo: $(STAMPS)/install
	$(VENV)/bin/edgeswarm serve --nodes 100 --epoch-ms 500

# The swarm alone in the terminal: 60 epochs under a 30-node attack.
demo-cli: $(STAMPS)/install
	$(VENV)/bin/edgeswarm run --nodes 100 --epochs 60 --byzantine 30 --bias 0.9

test: test-cpp test-py

test-cpp: $(STAMPS)/os
	cmake -S . -B build/cpp -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=Release > build-cpp.log 2>&1 || (cat build-cpp.log; exit 1)
	cmake --build build/cpp -j $(JOBS) >> build-cpp.log 2>&1 || (tail -50 build-cpp.log; exit 1)
	ctest --test-dir build/cpp --output-on-failure -j $(JOBS) | tail -n 15; exit $${PIPESTATUS[0]}

test-py: $(STAMPS)/install
	$(PY) -m pytest -q -m "not slow and not soak"

bench: $(STAMPS)/bench-deps bench-cpp
	$(PY) benchmarks/run_all.py

bench-cpp: $(STAMPS)/os
	cmake -S . -B build/bench -DEDGESWARM_BENCHMARKS=ON -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release > build-bench.log 2>&1 || (cat build-bench.log; exit 1)
	cmake --build build/bench -j $(JOBS) >> build-bench.log 2>&1 || (tail -50 build-bench.log; exit 1)
	build/bench/engine_bench --benchmark_min_time=0.2

soak: $(STAMPS)/install
	$(PY) -m pytest -q -m "soak or slow"

# Formatting and lint rules: ruff for Python, clang-format (Debian's) for C++. CI runs it before the tests.
CPP_FILES = $(shell find cpp benchmarks -name '*.cpp' -o -name '*.hpp')
lint: $(STAMPS)/install
	$(VENV)/bin/ruff check python tests benchmarks
	$(VENV)/bin/ruff format --check python tests benchmarks
	@echo "clang-format --dry-run --Werror <$(words $(CPP_FILES)) C++ files>"
	@clang-format --dry-run --Werror $(CPP_FILES)

# Apply the formatters (what `make lint` checks).
format: $(STAMPS)/install
	$(VENV)/bin/ruff check --fix python tests benchmarks
	$(VENV)/bin/ruff format python tests benchmarks
	clang-format -i $(CPP_FILES)

# Regenerate python/edgeswarm/_core.pyi after changing the bindings.
stubs: $(STAMPS)/install
	$(PY) -m edgeswarm._stubs --write

# OS packages: installed only when one is missing.
$(STAMPS)/os:
	@mkdir -p $(STAMPS)
	@missing=""; for p in $(OS_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing OS packages:$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; \
	fi
	@touch $@

$(STAMPS)/venv: $(STAMPS)/os
	@python3 -m venv $(VENV) || { echo "python3 -m venv failed: install python3-venv"; exit 1; }
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "scikit-build-core>=0.10" "pybind11>=2.12" "cmake>=3.18" ninja
	@touch $@

# Editable install; rebuilt when an engine source changes.
$(STAMPS)/install: $(STAMPS)/venv $(ENGINE_SOURCES)
	$(PIP) install -q --no-build-isolation -e ".[dev]"
	@touch $@

# Benchmark-only extras (River for bench_ml.py), on top of the editable install.
$(STAMPS)/bench-deps: $(STAMPS)/install
	$(PIP) install -q --no-build-isolation -e ".[dev,bench]"
	@touch $@

clean:
	rm -rf build $(STAMPS) build-cpp.log build-bench.log
