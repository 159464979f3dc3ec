# sshalive — see README.md. Every target that needs system packages installs
# them itself (Debian/Ubuntu, via apt-get) when they are missing.

GO      ?= go
BIN     := bin/sshalive
DEMO    := testdata/pcaps/seed-serveralive.pcap
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT     := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

# Packages: the libpcap build (make build-libpcap) and the tests that compare
# sshalive's filter compiler with libpcap's (gcc, libpcap-dev; make build
# needs neither), and the real-traffic lab and its tests (OpenSSH client and
# server, tcpdump, netns/iptables tools; setcap for the file-capability test;
# groff, zsh and fish check the man page and completions;
# prometheus: its promtool checks the example alert rules and a test scrapes
# a live sshalive with the real server, run by the test in its own network
# namespace: a prometheus.service the package enables on a systemd host does
# not get in its way).
BUILD_PKGS := gcc libc6-dev libpcap-dev
LAB_PKGS   := openssh-server openssh-client tcpdump iproute2 iptables procps perl chromium prometheus \
	libcap2-bin groff-base zsh fish
CAPTURE_PKGS := tshark debootstrap ethtool iputils-ping
# other SSH implementations the lab captures against OpenSSH (lab/impl, lab/scenarios.d/);
# OpenSSH 10 comes from a debootstrap'd trixie root (lab/trixie.sh)
LAB_IMPL_PKGS := python3-asyncssh libssh-dev libssh2-1-dev putty-tools dropbear-bin python3-paramiko

# The version stamped into binaries: git describe in a git checkout (v1.2.3,
# v1.2.3-4-gabcdef0, -dirty when modified), "dev" elsewhere (a tarball).
# --show-prefix is empty only at the top of a work tree, so a tarball
# unpacked inside another repository is not given that repository's tag.
VERSION := $(shell [ -z "$$(git rev-parse --show-prefix 2>/dev/null || echo no)" ] && git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# reproducible .debs: dpkg-deb clamps file times to the last commit's
SOURCE_DATE_EPOCH ?= $(shell [ -z "$$(git rev-parse --show-prefix 2>/dev/null || echo no)" ] && git log -1 --format=%ct 2>/dev/null)
ifneq ($(SOURCE_DATE_EPOCH),)
export SOURCE_DATE_EPOCH
endif

.PHONY: all demo test fuzz lint build build-libpcap release release-static version deps test-deps capture-deps captures bench clean

all: build

## demo: set up, build, and analyse a bundled capture
demo: build
	$(BIN) -r $(DEMO)

## test: set up and run the whole test suite: lint, unit, golden, lab
## captures, public traces, live capture against real sshd (as root)
test: test-deps lint
	CGO_ENABLED=0 $(GO) test -count=1 ./analyze/... ./report/... ./capture/...
	$(GO) test -count=1 -tags libpcap ./capture/...
	$(GO) test -count=1 ./...
	$(GO) test -race -count=1 -run 'TestGolden$$|TestInterruptedRead|TestBrokenInputs|TestReadBatch|TestShards|TestReadShapes|TestMerged|TestLiveFanout' ./cmd/sshalive ./capture ./analyze
	$(MAKE) fuzz

## fuzz: each fuzz target for a number of runs sized to about 10 s each here,
## or for FUZZTIME (make fuzz FUZZTIME=10m before a release). Counts, not
## seconds, by default: Go 1.26's fuzzer can fail a target with "context
## deadline exceeded" when a duration ends while a worker runs
## (golang/go#75804, fixed in Go 1.27); a count has no deadline.
FUZZTIME ?=
fuzztime = $(if $(FUZZTIME),$(FUZZTIME),$(1))
fuzz:
	$(GO) test ./capture -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(call fuzztime,150000x)
	$(GO) test ./capture -run '^$$' -fuzz '^FuzzReadFile$$' -fuzztime $(call fuzztime,15000x)
	$(GO) test ./analyze -run '^$$' -fuzz '^FuzzHandshake$$' -fuzztime $(call fuzztime,300000x)
	$(GO) test ./analyze -run '^$$' -fuzz '^FuzzTracker$$' -fuzztime $(call fuzztime,40000x)
	$(GO) test ./analyze -run '^$$' -fuzz '^FuzzNegotiate$$' -fuzztime $(call fuzztime,300000x)
	$(GO) test ./report -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(call fuzztime,5000x)
	$(GO) test ./capture/bpfc -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(call fuzztime,50000x)

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOCYCLO     := github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0
PRODUCT     := cmd capture analyze report

lint: deps
	$(GO) vet ./...
	$(GO) vet -tags libpcap ./...
	CGO_ENABLED=0 $(GO) vet ./...
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	@# analyze is the leaf: no gopacket, tablewriter, os or signals there
	@bad="$$($(GO) list -f '{{join .Imports "\n"}}' ./analyze | grep -E 'gopacket|tablewriter|^os$$|os/signal' || true)"; \
	if [ -n "$$bad" ]; then echo "analyze imports $$bad"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...
	@# stages a newcomer can read: no function above complexity 25, no product file over 600 lines
	$(GO) run $(GOCYCLO) -over 25 $(PRODUCT)
	@long="$$(wc -l $$(git ls-files $(addsuffix /*.go,$(PRODUCT)) | grep -v '_test.go$$') | awk '$$2 != "total" && $$1 > 600')"; \
	if [ -n "$$long" ]; then echo "files over 600 lines: $$long"; exit 1; fi

## build: the static pure-Go binary (no C compiler, no libpcap needed)
build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/sshalive

## build-libpcap: the cgo build with libpcap, for filter expressions outside
## the pure-Go subset
build-libpcap: deps
	CGO_ENABLED=1 $(GO) build -tags libpcap -ldflags '$(LDFLAGS)' -o bin/sshalive-libpcap ./cmd/sshalive

version:
	@echo $(VERSION)

## release: dist/ with static linux binaries, man page, completions, a .deb
## per architecture and SHA256SUMS. Needs only Go, make, git and dpkg: no
## cgo, so no C compiler or libpcap.
DIST       := dist
ARCHES     := amd64 arm64
# Debian versions start with a digit and order by it: v1.2.3-4-gabc-dirty is
# 1.2.3+4.gabc.dirty; an untagged build (a commit, dev) sorts below 0: 0~dev
DEB_VERSION := $(shell echo '$(VERSION)' | sed -e 's/^v//' -e 's/-/+/' -e 's/-/./g' -e '/^[0-9][0-9]*\./!s/^/0~/')
RELEASE_BUILD := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)'

release:
	rm -rf $(DIST)
	mkdir -p $(DIST)/completions
	for a in $(ARCHES); do GOOS=linux GOARCH=$$a $(RELEASE_BUILD) -o $(DIST)/sshalive-linux-$$a ./cmd/sshalive || exit 1; done
	$(MAKE) --no-print-directory release-static
	@# the documents come from the flag set of a binary built the same way for this machine
	$(RELEASE_BUILD) -o bin/sshalive-release ./cmd/sshalive
	bin/sshalive-release --generate man > $(DIST)/sshalive.1
	gzip -9n < $(DIST)/sshalive.1 > $(DIST)/sshalive.1.gz
	bin/sshalive-release --generate bash > $(DIST)/completions/sshalive.bash
	bin/sshalive-release --generate zsh > $(DIST)/completions/_sshalive
	bin/sshalive-release --generate fish > $(DIST)/completions/sshalive.fish
	cp packaging/sshalive.service $(DIST)/
	for a in $(ARCHES); do packaging/deb.sh $$a $(DEB_VERSION) $(DIST) || exit 1; done
	cd $(DIST) && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS
	@echo "release $(VERSION) in $(DIST)/:"; cd $(DIST) && ls -l

# every release binary is static: built without cgo, and no interpreter or
# shared libraries when file(1) is there to say so
release-static:
	@for b in $(DIST)/sshalive-linux-*; do \
	  $(GO) version -m $$b | grep -q 'CGO_ENABLED=0' || { echo "$$b: built with cgo"; exit 1; }; \
	  if command -v file >/dev/null; then \
	    file -b $$b | grep -Eq 'statically linked|static-pie linked' || { echo "$$b: not static: $$(file -b $$b)"; exit 1; }; \
	  fi; \
	  echo "$$b: static"; \
	done

## captures: regenerate every lab capture in testdata/pcaps and the manifest (root)
captures: test-deps capture-deps
	lab/trixie.sh
	lab/captures.sh

deps:
	@missing=""; for p in $(BUILD_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; $(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$missing >/dev/null; fi

test-deps: deps
	@missing=""; for p in $(LAB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; $(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$missing >/dev/null; fi

capture-deps:
	@missing=""; for p in $(CAPTURE_PKGS) $(LAB_IMPL_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; $(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$missing >/dev/null; fi

## bench: packets/s, MB/s, allocs/packet and peak RSS of the full analysis
## against a decode-only loop over one generated capture (lab/bench.sh)
bench: build
	@command -v /usr/bin/time >/dev/null || $(APT) install -y -qq --no-install-recommends time >/dev/null
	lab/bench.sh

clean:
	rm -rf bin $(DIST)
