# fw: native iptables-save / iptables-restore with semantic diff.
GO        ?= go
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/sbin
FUZZTIME  ?= 30s
CMDS      := fw-save fw-restore fw-diff

.PHONY: all build test demo bench fuzz install clean deps vet

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

install: build
	install -d $(DESTDIR)$(BINDIR)
	for c in $(CMDS); do [ ! -e bin/$$c ] || install -m 0755 bin/$$c $(DESTDIR)$(BINDIR)/$$c; done

clean:
	rm -rf bin
	$(GO) clean -testcache
