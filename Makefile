# QomFs: `make run` for a demo, `make test` for everything (`make test-fast`: the in-process tests), `make bench` for the numbers.
SHELL := /bin/bash
PREFIX ?= /usr/local
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

# The names the binary answers to; each is a symlink to bin/qomfs.
DROPINS := qom qom-get qom-set qom-list qom-tree qom-fuse qmp-shell qemu-ga-client

.PHONY: all deps build man test test-fast run bench install uninstall deb clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(DOTNET) publish src/QomFs.Cli -c Release -r linux-x64 -o artifacts/publish --nologo -v quiet
	@mkdir -p bin
	@cp artifacts/publish/qomfs bin/.qomfs.new && mv -f bin/.qomfs.new bin/qomfs  # a rename, so a running qomfs keeps its file
	@for n in $(DROPINS); do ln -sfn qomfs bin/$$n; done
	@echo "built bin/qomfs and links: $(DROPINS)"
	@scripts/make-man.sh bin/qomfs artifacts/man

man: build

test: build
	@scripts/run-tests.sh

test-fast:   # the in-process tests only: no QEMU, qemu-ga, FUSE or published binary; seconds
	@scripts/run-tests.sh --fast

run: build
	@scripts/demo.sh

bench: build
	@scripts/bench.sh

# What install puts where; uninstall removes exactly these. mount -t fuse.qomfs needs no helper of ours:
# mount.fuse3 runs `qomfs`, found in the shell's default PATH, which holds $(PREFIX)/bin for /usr and /usr/local.
BINDIR = $(DESTDIR)$(PREFIX)/bin
MANDIR = $(DESTDIR)$(PREFIX)/share/man/man1
COMPLETIONDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
MANPAGES := qomfs qom-get qom-set qom-list qom-tree qom-fuse qmp-shell qemu-ga-client

install: build
	install -D -m 0755 bin/qomfs $(BINDIR)/qomfs
	@for n in $(DROPINS); do ln -sfn qomfs $(BINDIR)/$$n; done
	@for m in $(MANPAGES); do install -D -m 0644 artifacts/man/$$m.1 $(MANDIR)/$$m.1; done
	install -D -m 0644 completion/qomfs.bash $(COMPLETIONDIR)/qomfs
	@for n in $(DROPINS); do ln -sfn qomfs $(COMPLETIONDIR)/$$n; done   # bash-completion loads by command name

# Directories are removed only inside a DESTDIR (a staging root left as found); a live PREFIX keeps its own.
uninstall:
	rm -f $(BINDIR)/qomfs $(addprefix $(BINDIR)/,$(DROPINS))
	rm -f $(addprefix $(MANDIR)/,$(addsuffix .1,$(MANPAGES)))
	rm -f $(COMPLETIONDIR)/qomfs $(addprefix $(COMPLETIONDIR)/,$(DROPINS))
	$(if $(DESTDIR),-rmdir -p --ignore-fail-on-non-empty $(BINDIR) $(MANDIR) $(COMPLETIONDIR) 2>/dev/null)

deb: build
	@scripts/make-deb.sh

clean:
	rm -rf bin artifacts
