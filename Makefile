# sshalive — see README.md. Every target that needs system packages installs
# them itself (Debian/Ubuntu, via apt-get) when they are missing.

GO      ?= go
BIN     := bin/sshalive
DEMO    := testdata/pcaps/seed-serveralive.pcap
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT     := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

# Packages: building (cgo + libpcap for live capture), and the real-traffic lab
# and its tests (OpenSSH client and server, tcpdump, netns/iptables tools;
# prometheus: its promtool checks the example alert rules and a test scrapes
# a live sshalive with the real server, run by the test in its own network
# namespace: a prometheus.service the package enables on a systemd host does
# not get in its way).
BUILD_PKGS := gcc libc6-dev libpcap-dev
LAB_PKGS   := openssh-server openssh-client tcpdump iproute2 iptables procps perl chromium prometheus
CAPTURE_PKGS := tshark debootstrap ethtool iputils-ping
# other SSH implementations the lab captures against OpenSSH (lab/impl, lab/scenarios.d/);
# OpenSSH 10 comes from a debootstrap'd trixie root (lab/trixie.sh)
LAB_IMPL_PKGS := python3-asyncssh libssh-dev libssh2-1-dev putty-tools dropbear-bin python3-paramiko

.PHONY: all demo test fuzz lint build deps test-deps capture-deps captures bench clean

all: build

## demo: set up, build, and analyse a bundled capture
demo: build
	$(BIN) -r $(DEMO)

## test: set up and run the whole test suite: lint, unit, golden, lab
## captures, public traces, live capture against real sshd (as root)
test: test-deps lint
	CGO_ENABLED=0 $(GO) test -count=1 ./analyze/... ./report/... ./capture/...
	$(GO) test -count=1 ./...
	$(MAKE) fuzz

## fuzz: each fuzz target for FUZZTIME (default 10s; run for 10m before a release)
FUZZTIME ?= 10s
fuzz:
	$(GO) test ./capture -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./capture -run '^$$' -fuzz '^FuzzReadFile$$' -fuzztime $(FUZZTIME)
	$(GO) test ./analyze -run '^$$' -fuzz '^FuzzHandshake$$' -fuzztime $(FUZZTIME)
	$(GO) test ./analyze -run '^$$' -fuzz '^FuzzTracker$$' -fuzztime $(FUZZTIME)
	$(GO) test ./analyze -run '^$$' -fuzz '^FuzzNegotiate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./report -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME)

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOCYCLO     := github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0
PRODUCT     := cmd capture analyze report

lint: deps
	$(GO) vet ./...
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

build: deps
	$(GO) build -o $(BIN) ./cmd/sshalive

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
	rm -rf bin
