# QomFs: `make run` for a demo, `make test` for everything (`make test-fast`: the in-process tests), `make bench` for the numbers.
SHELL := /bin/bash
PREFIX ?= /usr/local
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

# The names the binary answers to; each is a symlink to bin/qomfs.
DROPINS := qom qom-get qom-set qom-list qom-tree qom-fuse qmp-shell qemu-ga-client

.PHONY: all deps build test test-fast run bench install clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(DOTNET) publish src/QomFs.Cli -c Release -r linux-x64 -o artifacts/publish --nologo -v quiet
	@mkdir -p bin
	@cp artifacts/publish/qomfs bin/.qomfs.new && mv -f bin/.qomfs.new bin/qomfs  # a rename, so a running qomfs keeps its file
	@for n in $(DROPINS); do ln -sfn qomfs bin/$$n; done
	@echo "built bin/qomfs and links: $(DROPINS)"

test: build
	@scripts/run-tests.sh

test-fast:   # the in-process tests only: no QEMU, qemu-ga, FUSE or published binary; seconds
	@scripts/run-tests.sh --fast

run: build
	@scripts/demo.sh

bench: build
	@scripts/bench.sh

install: build
	install -D -m 0755 bin/qomfs $(DESTDIR)$(PREFIX)/bin/qomfs
	@for n in $(DROPINS); do ln -sfn qomfs $(DESTDIR)$(PREFIX)/bin/$$n; done

clean:
	rm -rf bin artifacts
