# fw: native iptables-save / iptables-restore with semantic diff.
GO        ?= go
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
FUZZTIME  ?= 30s
CMDS      := fw-save fw-restore fw-diff

.PHONY: all build test demo bench fuzz install install-systemd clean deps vet

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

test: deps vet
	$(GO) test -count=1 ./...

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
