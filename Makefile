# The two commands of the quick start: `make demo` and `make test`.
SWIFT ?= swift
PREFIX ?= /usr/local
DEPS := libsqlite3-dev liblzma-dev libedit-dev

.PHONY: deps build release demo test clean

# Installs the system libraries the build links against, when any is missing.
deps:
	@missing=""; for p in $(DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Builds release and runs the Samples scenario end to end, showing each step's output.
demo: release
	bash Samples/scenario.sh .build/release/snapdex

# Runs the whole test suite (Swift Testing).
test: deps
	TZ=UTC $(SWIFT) test --disable-xctest

clean:
	rm -rf .build
