# The two commands a newcomer types: `make demo` and `make test`. Both install first.
.PHONY: demo test typecheck bench build clean

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

## Run the main example flow (arXiv topic model, test mode) on the local datastore in .flowrun/
demo: node_modules
	npm run --silent flowrun -- run flows/ArxivAbstractTopicModel.ts

## The whole test suite
test: node_modules
	npm test

typecheck: node_modules
	npm run typecheck

bench: node_modules
	npm run bench

build: node_modules
	npm run build

clean:
	rm -rf dist .flowrun
