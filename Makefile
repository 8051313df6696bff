# The two commands a newcomer types: `make demo` and `make test`. Both install first.
.PHONY: demo test typecheck bench build binary clean system-packages

# The single executable `make binary` builds (and `make test` tests).
BINARY := dist/flowrun-$(shell node -p 'process.platform + "-" + process.arch')

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

# The compiled package: what `import { Flow } from "flowrun"` loads in a script in this
# checkout (a package resolves its own name), and what `npm pack` ships. Rebuilt when a
# source changes.
SOURCES := $(shell find src runtime -name '*.ts' -o -name '*.mjs' -o -path '*/static/*') package.json tsconfig.json tsconfig.build.json
dist/src/index.js: node_modules $(SOURCES)
	npm run build
	@touch $@

## Run the main example flow (arXiv topic model, test mode) on the local datastore in .flowrun/
## with the built CLI (what `npx flowrun` runs); scripts here can then read the results with
## `import ... from "flowrun"`
demo: node_modules dist/src/index.js
	bin/flowrun run flows/ArxivAbstractTopicModel.ts

## The whole test suite (the single executable's end-to-end tests included: it is built first;
## redis-server, graphviz and chromium are installed first when missing, as root)
test: system-packages node_modules $(BINARY)
	FLOWRUN_REQUIRE_BINARY=1 FLOWRUN_REQUIRE_CHROMIUM=1 npm test

system-packages:
	@scripts/install-system-packages.sh

typecheck: node_modules
	npm run typecheck

bench: node_modules
	npm run bench

build: node_modules
	npm run build

## One executable with Node, flowrun and every dependency: dist/flowrun-linux-x64
## (scripts/build-binary.mjs says how); copy it anywhere and run `./flowrun-linux-x64 run flows/X.ts`
binary: $(BINARY)
$(BINARY): node_modules dist/src/index.js scripts/build-binary.mjs scripts/binary-launcher.cjs
	node scripts/build-binary.mjs

clean:
	rm -rf dist .flowrun
