# The two commands of the quick start: `make demo` and `make test`.
SWIFT ?= swift
PREFIX ?= /usr/local
DEPS := libsqlite3-dev liblzma-dev libedit-dev
# What the tests run besides snapdex: man and groff check the pages, GNU tar and bsdtar
# extract `restore --tar` archives.
TEST_DEPS := man-db groff-base tar libarchive-tools zsh fish
# The S3 gateway the object-storage tests run against (scripts/start-rgw.sh): Ceph's RADOS
# Gateway with one monitor and one in-memory OSD, about 70 MB without the recommended packages.
S3_TEST_DEPS := radosgw ceph-mon ceph-osd curl

.PHONY: deps test-deps install-missing build release demo test fuzz man install uninstall clean
MAN_DATE := 2026-11-22

# Installs the system libraries the build links against, when any is missing.
deps:
	@$(MAKE) -s install-missing PACKAGES="$(DEPS)"

# Installs the tools the tests run, when any is missing.
test-deps: deps
	@$(MAKE) -s install-missing PACKAGES="$(TEST_DEPS)"
	@$(MAKE) -s install-missing PACKAGES="$(S3_TEST_DEPS)" APT_OPTIONS=--no-install-recommends

install-missing:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(APT_OPTIONS) $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Builds release and runs the Samples scenario end to end, showing each step's output.
demo: release
	bash Samples/scenario.sh .build/release/snapdex

# The campaigns' seed: fixed, so a CI run can be replayed exactly; `make test CAMPAIGN_SEED=N`
# explores others (Tests/SnapdexCLITests/Campaigns.swift).
CAMPAIGN_SEED ?= 70300

# Runs the whole test suite: a short fuzz run of the decoders, then Swift Testing (last, so
# its summary closes the output). The man-page check needs the argument parser's
# generate-manual tool, which the first line builds.
test: test-deps
	mkdir -p .build/man-check
	$(SWIFT) package --allow-writing-to-directory .build/man-check generate-manual --configuration debug \
	  --multi-page --date $(MAN_DATE) --authors "The Snapdex developers" --output-directory .build/man-check > /dev/null
	$(MAKE) fuzz
	@# One S3 gateway for the whole run, found by the tests through SNAPDEX_TEST_S3_*; stopped
	@# by its own process ids when the tests end, pass or fail (or make is interrupted).
	@rgw=$$(mktemp -d /tmp/snapdex-rgw.XXXXXX); trap 'scripts/stop-rgw.sh "$$rgw"' EXIT INT TERM; \
	if scripts/start-rgw.sh "$$rgw" > /dev/null; then set -a; . "$$rgw/env"; set +a; \
	else echo "make test: the S3 gateway did not start (its log is above); the object-storage tests will try to start their own"; fi; \
	TZ=UTC SNAPDEX_CAMPAIGN_SEED=$(CAMPAIGN_SEED) $(SWIFT) test --disable-xctest

# Runs the libFuzzer target on the manifest and chunk decoders for FUZZ_SECONDS over the
# committed seed corpus (Fuzz/corpus); any trap fails it. `Fuzz/run.sh 600` runs longer.
FUZZ_SECONDS ?= 20
fuzz:
	Fuzz/run.sh $(FUZZ_SECONDS)

# Regenerates the command pages in man/ from the command definitions, then names and tidies
# them with scripts/fix-man-pages.sh (the staleness test runs the same script).
man: deps
	rm -f man/snapdex*.1
	$(SWIFT) package --allow-writing-to-directory man generate-manual --configuration debug \
	  --multi-page --date $(MAN_DATE) --authors "The Snapdex developers" --output-directory man
	sh scripts/fix-man-pages.sh man

# Installs the binary, man pages and shell completions under PREFIX.
install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	  $(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 .build/release/snapdex $(DESTDIR)$(PREFIX)/bin/snapdex
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	.build/release/snapdex --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/snapdex
	.build/release/snapdex --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_snapdex
	.build/release/snapdex --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/snapdex.fish

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/snapdex
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/snapdex*.1 $(DESTDIR)$(PREFIX)/share/man/man5/snapdex-format.5 \
	  $(DESTDIR)$(PREFIX)/share/man/man7/snapdex-retention.7
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/snapdex $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_snapdex \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/snapdex.fish

clean:
	rm -rf .build
