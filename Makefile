# The two Quick start commands: `make demo` and `make test`. Each installs what is missing, builds, runs.
.PHONY: demo test deps build build-asan web firmware bench clean

deps:
	./scripts/install-deps.sh

build: deps
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

bench: build
	./scripts/run-benchmarks.sh

clean:
	rm -rf build
