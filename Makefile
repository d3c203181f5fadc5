# Carelog developer entry points. Everything installs what it needs first
# (scripts/install-*-deps.sh are idempotent and silent when nothing is missing).
#   make build   configure (CMake+Ninja, RelWithDebInfo, ccache) and build into build/
#   make run     build, then start the broker: build/bin/carelogd
#   make test    install test deps, build, run unit tests (ctest) and system tests
#   make format  clang-format-14 over src/
#   make bench   benchmark suite (bench/run; BENCH_ARGS="--quick max"), results in build/bench/
#   make fuzz    build libFuzzer targets with clang-14 into build-fuzz/ (when fuzz/ exists)
#   make clean   remove build/ and build-fuzz/

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
CMAKE_ARGS ?=
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 30
# Short libFuzzer smoke run inside `make test` (longer runs: make fuzz FUZZ_SECONDS=600).
TEST_FUZZ_SECONDS ?= 20

.PHONY: all build run test test-reference unit-test system-test build-deps test-deps clean format fuzz bench

all: build

build-deps:
	@scripts/install-build-deps.sh

test-deps: build-deps
	@scripts/install-test-deps.sh

# Configure only after the install scripts ran (order-only: they are phony).
$(BUILD_DIR)/build.ninja: | build-deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS) >/dev/null \
	  || { echo "make: cmake configure failed" >&2; exit 1; }

build: build-deps $(BUILD_DIR)/build.ninja
	@ninja -C $(BUILD_DIR) -j$(JOBS) \
	  && echo "make build: OK ($(BUILD_DIR)/bin: $$(cat $(BUILD_DIR)/carelog-build-summary.txt))" \
	  || { echo "make build: FAILED" >&2; exit 1; }
	@scripts/check-deps.sh $(BUILD_DIR)

run: build
	exec $(BUILD_DIR)/bin/carelogd

unit-test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# The system tests run the broker from this build directory.
SYSTEST = CARELOG_REQUIRE_S3=1 CARELOGD=$(CURDIR)/$(BUILD_DIR)/bin/carelogd CARELOG_CLI=$(CURDIR)/$(BUILD_DIR)/bin/carelog \
  tests/system/run.sh

# Every install runs before CMake configures: test-deps first, then the build.
system-test: test-deps
	@$(MAKE) --no-print-directory build
	@$(SYSTEST)

# Runs both suites even if the first fails, then reports both.
test: test-deps
	@$(MAKE) --no-print-directory build
	@unit=PASS; oracle=PASS; fuzz=PASS; sys=PASS; \
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS) || unit=FAIL; \
	tests/oracle/run.sh $(BUILD_DIR) 1 20 || oracle=FAIL; \
	FUZZ_DIR=$(CURDIR)/$(FUZZ_DIR) scripts/fuzz.sh $(TEST_FUZZ_SECONDS) || fuzz=FAIL; \
	$(SYSTEST) || sys=FAIL; \
	echo "make test: unit tests $$unit, protocol oracle $$oracle, fuzz $$fuzz, system tests $$sys"; \
	[ $$unit = PASS ] && [ $$oracle = PASS ] && [ $$fuzz = PASS ] && [ $$sys = PASS ]

# Differential run: the same system tests against Apache Kafka 4.x itself
# (a single KRaft broker from .cache/kafka), to check the tests' expectations.
test-reference: test-deps
	@CARELOG_TEST_TARGET=kafka tests/system/run.sh

# Release build in build-bench/, brokers on fresh data dirs, physical limits,
# Apache Kafka and the in-memory peer side by side (docs/benchmarks.md).
BENCH_ARGS ?=
bench:
	@bench/run $(BENCH_ARGS)

format:
	@find src -name '*.h' -o -name '*.cpp' | xargs -r clang-format-14 -i
	@echo "make format: OK"

fuzz: test-deps
	@if [ ! -f fuzz/CMakeLists.txt ]; then echo "make fuzz: no fuzz targets (fuzz/CMakeLists.txt absent)"; exit 0; fi; \
	FUZZ_DIR=$(FUZZ_DIR) JOBS=$(JOBS) scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)
