# Every target bootstraps .venv from nothing, so `make run` and `make test` work on a fresh machine
# with only Python 3.11 and pip.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Front-end packages: npm installs them from server/package-lock.json; only their built files are
# copied into server/static/vendor (ignored by git, shipped in the wheel).
NPM_STAMP    := server/node_modules/.lockfile-stamp
VENDOR       := server/static/vendor
VENDOR_STAMP := $(VENDOR)/.stamp
VENDOR_FILES := server/node_modules/@zazuko/yasgui/build/yasgui.min.js \
                server/node_modules/@zazuko/yasgui/build/yasgui.min.css \
                server/node_modules/axe-core/axe.min.js
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install build validate run lint test browser java virtuoso allocator bench bench-validation soak clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(NPM_STAMP): server/package-lock.json
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || \
	  { echo "make install: node and npm are needed for the query editor's packages (Node.js 20: https://nodejs.org)" >&2; exit 1; }
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || \
	  { echo "make install: Node.js 20 or later is needed; node --version says $$(node --version)" >&2; exit 1; }
	cd server && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
	touch $@

# Source maps are not shipped, so the reference to them goes too.
$(VENDOR_STAMP): $(NPM_STAMP)
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	for f in $(VENDOR_FILES); do sed '/^\/[/*]# sourceMappingURL=/d' "$$f" > $(VENDOR)/$$(basename "$$f"); done
	touch $@

install: $(STAMP) $(VENDOR_STAMP)

build: install
	$(BIN)/peacegraph build

validate: install
	$(BIN)/peacegraph validate

run: build
	$(BIN)/peacegraph serve --host $(HOST) --port $(PORT)

# Headless Chromium for the browser tests, from Debian's packages (no browser downloads).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# A headless Java runtime for HermiT (run through owlready2) in the consistency test, from Debian.
java:
	@command -v java >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; }

# Virtuoso's server and SQL client for the tests against a real Virtuoso, from Debian's packages: only
# virtuoso-opensource-7-bin, so no service is installed or started and debconf asks nothing (the
# tests run virtuoso-t themselves, with a database and virtuoso.ini of their own).
virtuoso:
	@command -v virtuoso-t >/dev/null 2>&1 && command -v isql-vt >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends virtuoso-opensource-7-bin >/dev/null; }

# jemalloc for the query engine's processes (peacegraph.server.allocator: about 20% faster queries
# than under glibc's malloc), from Debian. The server runs without it, on the system's allocator.
allocator:
	@/sbin/ldconfig -p 2>/dev/null | grep -q libjemalloc.so.2 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjemalloc2 >/dev/null; }

# pyflakes, import order, bugbear and pyupgrade rules; pyproject.toml [tool.ruff] says which.
lint: install
	$(BIN)/ruff check src server tests

test: install browser java virtuoso allocator lint
	$(BIN)/python -m pytest

bench: install allocator
	$(BIN)/peacegraph bench --out bench-results

bench-validation: install
	$(BIN)/python -m peacegraph.bench_validation --out bench-results

soak: install
	$(BIN)/python -m pytest tests/soak -m soak --soak-seconds 60

clean:
	rm -rf dist build src/*.egg-info .pytest_cache screenshots server/node_modules $(VENDOR)
