# The two Quick start commands: `make demo` and `make test`. Each installs what is missing, builds, runs.
.PHONY: demo test deps build build-all build-asan web bench fuzz format style clean

deps:
	./scripts/install-deps.sh

# What the demo needs: the `wattguard` program only (optimised), not the tests and benchmarks.
build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release --target wattguard

# Every target of the optimised build (the benchmarks among them).
build-all: deps
	cmake --preset release >/dev/null
	cmake --build --preset release

build-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan

# The web UI the server serves (web/dist), built from the lockfile's npm packages.
web:
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

# The full demo: a private broker, the server and a virtual fleet with thieves, embedded defaults.
demo: build web
	./build/release/cli/wattguard demo $(ARGS)

# Build once (sanitizers on), then every suite: CTest, then the checks in scripts/checks/.
test: build-asan
	ctest --preset asan
	WATTGUARD_BIN=$(CURDIR)/build/asan/cli/wattguard ./scripts/run-extra-checks.sh

bench: build-all
	./scripts/run-benchmarks.sh

# Every parser's libFuzzer target (fuzz/, docs/fuzzing.md) for FUZZ_SECONDS each (or FUZZ_RUNS executions each);
# `make test` runs a short pass.
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) ./scripts/checks/fuzz.sh

# clang-format over every project C++ file.
format:
	./scripts/format.sh

# The naming, format and clang-tidy check alone (make test runs it too; needs the asan build's
# compile_commands.json).
style: build-asan
	./scripts/checks/style.sh

clean:
	rm -rf build
