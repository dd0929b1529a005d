# fw: native iptables-save / iptables-restore with semantic diff.
GO        ?= go
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
FUZZTIME  ?= 30s
CMDS      := fw-save fw-restore fw-diff

# A package may take a third of TEST_TIMEOUT on this 2-core machine under
# load; the rest is room for a machine three times slower. TEST_PARALLEL
# lets kernel tests that mostly wait for the reference tools overlap.
TEST_TIMEOUT  ?= 15m
TEST_PARALLEL ?= 4
STATICCHECK   ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test test-short shelltests demo bench fuzz install install-systemd clean deps vet lint

all: build

build:
	@mkdir -p bin
	$(GO) build -o bin/ ./cmd/...

# The reference tools are the test oracle; install them when they are
# missing and we can (root on Debian).
deps:
	@scripts/deps.sh

vet:
	$(GO) vet ./...

# The habits CI holds: formatted, vetted, staticcheck-clean, go.mod tidy.
lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "gofmt would change: $$out"; exit 1; }
	$(GO) run $(STATICCHECK) ./...
	@cp go.mod go.mod.lint~; cp go.sum go.sum.lint~; $(GO) mod tidy; \
	  if cmp -s go.mod go.mod.lint~ && cmp -s go.sum go.sum.lint~; then rm go.mod.lint~ go.sum.lint~; \
	  else diff -u go.mod.lint~ go.mod; mv go.mod.lint~ go.mod; mv go.sum.lint~ go.sum; echo "go.mod is not tidy: run go mod tidy"; exit 1; fi

test: deps vet
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -parallel $(TEST_PARALLEL) ./...

# The fast tier: no root, no kernel, no reference tools.
test-short:
	$(GO) test -count=1 -short -timeout 5m ./...

# iptables' own shell tests with fw in place of save and restore, both
# backends (root; fetches the iptables source from Debian's archive).
shelltests: build deps
	@scripts/shelltests.sh

demo: build deps
	@scripts/demo.sh

bench: build deps
	@scripts/bench.sh

fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

install: build install-systemd
	install -d $(DESTDIR)$(BINDIR)
	for c in $(CMDS); do [ ! -e bin/$$c ] || install -m 0755 bin/$$c $(DESTDIR)$(BINDIR)/$$c; done

# The boot service (fw@4, fw@6) with the installed paths filled in, its
# settings file (kept when it exists) and the rules directory. See
# docs/boot.md.
install-systemd:
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/default $(DESTDIR)$(SYSCONFDIR)/fw
	sed -e 's|@SBINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/fw@.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/fw@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/fw@.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/fw ] || { \
	  sed -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/fw.default > $(DESTDIR)$(SYSCONFDIR)/default/fw && \
	  chmod 0644 $(DESTDIR)$(SYSCONFDIR)/default/fw; }

clean:
	rm -rf bin
	$(GO) clean -testcache
