# Warehouse stock monitor. `make dev` runs the product on embedded parts; `make test` runs the tests.
# Both install what they need first (npm packages, the Kafka client's native build, Prisma Client).

SHELL := /bin/bash
.DEFAULT_GOAL := help
export PRISMA_SCHEMA_ENGINE_BINARY ?= /bin/true
NPX := npx --no-install

# Debian packages the Kafka client's offline build links against (../shared/design.md section 6).
DEB_BUILD_DEPS := zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# --- set-up -----------------------------------------------------------------------------------

# npm ci only when node_modules is missing or disagrees with package.json (npm ls), so a dependency
# added with `npm install` does not trigger a full reinstall and native rebuild.
.PHONY: node-modules
node-modules:
	@missing=$$(for p in $(DEB_BUILD_DEPS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "warning: missing Debian packages ($$missing); the Kafka client may fail to build: sudo apt-get install $$missing" >&2; fi; \
	fi
	@if [ ! -f node_modules/.package-lock.json ] || ! npm ls >/dev/null 2>&1; then \
	  echo "installing npm packages (the Kafka client builds librdkafka where no prebuilt binary can be fetched: about a minute)"; \
	  CKJS_LINKING=dynamic npm ci --no-audit --no-fund; \
	fi
	@[ -f node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node ] || \
	  CKJS_LINKING=dynamic npm rebuild @confluentinc/kafka-javascript

api/generated/prisma/client.ts: prisma/schema.prisma
	$(NPX) prisma generate

# The operator console's bundle (api/console/build.ts), rebuilt when a source of it changes.
CONSOLE_SOURCES := $(shell find api/console -name 'dist*' -prune -o -type f -print)
api/console/dist/index.html: $(CONSOLE_SOURCES) package-lock.json | node-modules
	$(NPX) tsx api/console/build.ts

.PHONY: console
console: node-modules ## Build the operator console (api/console/dist, served at /console) and print its size
	$(NPX) tsx api/console/build.ts

.PHONY: install
install: node-modules api/generated/prisma/client.ts api/console/dist/index.html ## Install npm packages, generate Prisma Client, build the console

# --- checks -----------------------------------------------------------------------------------

# The console's browser tests drive Debian's chromium (api/__tests__/browser/).
.PHONY: chromium
chromium: ## Install Debian's chromium for the console's browser tests (as root), unless present
	$(call need-deb,chromium,chromium)

.PHONY: console-screenshots
console-screenshots: install chromium ## Rewrite docs/console/*.png: every console view at a laptop and a phone width, taken by the browser tests
	$(call need-deb,pngquant,pngquant)
	CONSOLE_SCREENSHOTS=docs/console $(NPX) vitest run api/__tests__/browser/
	@# 256-colour palettes: a third of the size, no visible change on flat UI colours (exit 98/99: a file kept as is).
	@pngquant --force --skip-if-larger --ext .png --quality 70-95 --speed 1 docs/console/*.png; s=$$?; [ $$s -eq 0 ] || [ $$s -eq 98 ] || [ $$s -eq 99 ]
	@du -ch docs/console/*.png | tail -1

.PHONY: test
test: install chromium ## Run every test on embedded PostgreSQL and the librdkafka mock cluster
	@mkdir -p .dev
	@set -o pipefail; $(NPX) vitest run --reporter=default --reporter=json --outputFile.json=.dev/test-results.json; \
	status=$$?; node lib/testing/print-summary.mjs .dev/test-results.json; exit $$status

.PHONY: test-image-node
test-image-node: install ## Run every test on the Node.js the images run (NODE_IMAGE; from npm into .dev/, the Kafka client rebuilt for it)
	@lib/dev/test-on-image-node.sh

.PHONY: lint
lint: install ## Type-check and lint
	$(NPX) tsc --noEmit -p tsconfig.json
	$(NPX) tsc --noEmit -p api/console/src/tsconfig.json
	$(NPX) tsc --noEmit -p api/__tests__/browser/tsconfig.json
	$(NPX) eslint .

# --- running ----------------------------------------------------------------------------------

.PHONY: migrate
migrate: install ## Apply pending migrations to DATABASE_URL (or the running embedded stack)
	$(NPX) tsx prisma/migrate.ts

.PHONY: reset-offsets
reset-offsets: install ## Move a partition's stored offset, e.g. after it stopped past the log end (ARGS="--partition N --to earliest|latest|OFFSET")
	$(NPX) tsx processor/reset-offsets.ts $(ARGS)

# --- run --------------------------------------------------------------------------------------
# make dev (embedded stack), make start/stop (docker compose), and the checks of their configs.

# Installs Debian packages ($1) when a command ($2) is missing: as root from Debian's archive,
# otherwise it says what to install.
define need-deb
	@command -v $(2) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian package(s) $(1) (for $(2))"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1) >/dev/null; \
	  else echo "$(2) is missing: sudo apt-get install $(1)" >&2; exit 1; fi; }
endef

.PHONY: check-prometheus
check-prometheus: ## Check the Prometheus configs, alert rules and their unit tests (promtool), and Alertmanager's config (amtool)
	$(call need-deb,prometheus,promtool)
	$(call need-deb,prometheus-alertmanager,amtool)
	promtool check config prometheus/prometheus.yml prometheus/prometheus.dev.yml
	promtool test rules prometheus/tests/*.test.yml
	amtool check-config alertmanager/alertmanager.yml
	@# The variant alertmanager/entrypoint.sh writes when ALERT_WEBHOOK_URL is set, with a URL that needs quoting.
	@out=$$(mktemp) && trap 'rm -f "$$out"' EXIT && \
	  ALERT_WEBHOOK_URL="https://hooks.example.com/alerts?team=o'neil&x=1#y" sh alertmanager/entrypoint.sh render > "$$out" && \
	  amtool check-config "$$out"

.PHONY: dashboard
dashboard: install ## Regenerate grafana/dashboards/warehouse.json from grafana/panels.ts
	$(NPX) tsx grafana/dashboard.ts

# --- load -------------------------------------------------------------------------------------
# Load tools (load/README.md). Extra options: ARGS="--count 100000 --rate 5000", see --help.

.PHONY: profile-merge
profile-merge: install ## Time every statement of apply_batch on generated 20k-record batches (auto_explain); ARGS="--preload 0,5M,20M" on large ledgers
	$(NPX) tsx load/bench/merge-profile.ts $(ARGS)

.PHONY: chaos
chaos: install ## Fault campaign: SIGKILLs, joins, PostgreSQL restarts, cut and blackholed connections, against the oracle (~5 min; ARGS="--minutes N --seed S")
	LOG_LEVEL=$${LOG_LEVEL:-warn} $(NPX) tsx load/chaos/main.ts $(ARGS)

.PHONY: produce
produce: install ## Send generated movement events to the running stack (ARGS="--count N --rate R --seed S ...")
	$(NPX) tsx load/produce.ts $(ARGS)

# The container stack, on Compose v2: the docker CLI plugin (`docker compose`) or its standalone
# binary. Compose v1 (docker-compose 1.x) lacks `up --wait` and is refused with a clear message.
COMPOSE = $(shell if docker compose version >/dev/null 2>&1; then echo docker compose; \
  elif docker-compose version --short 2>/dev/null | grep -q '^v\?2\.'; then echo docker-compose; fi)
export COMPOSE_PROJECT_NAME ?= warehouse-stock-monitor
# Required by docker-compose.yml, no defaults: `make start` writes random ones to .env once.
COMPOSE_SECRETS := POSTGRES_PASSWORD PROCESSOR_DATABASE_PASSWORD API_DATABASE_PASSWORD GRAFANA_ADMIN_PASSWORD

.PHONY: compose-v2
compose-v2:
	@command -v docker >/dev/null 2>&1 || { echo "make start needs Docker with Compose v2; without a container engine, use make dev" >&2; exit 1; }
	@[ -n "$(COMPOSE)" ] || { \
	  echo "make start and make stop need Docker Compose v2 ('docker compose', which waits for health with up --wait)." >&2; \
	  if command -v docker-compose >/dev/null 2>&1; then echo "Found only docker-compose $$(docker-compose version --short 2>/dev/null) (Compose v1): install the Compose v2 plugin (Docker's docker-compose-plugin package)." >&2; fi; \
	  exit 1; }

# The stack's passwords (and a Kafka cluster id of its own), random, written once; .env is ignored
# by git and by the image builds, and Compose reads it. Values set in the environment win.
.env:
	@umask 077; { \
	  echo "# Written by make start: docker compose reads these. The PostgreSQL and Grafana passwords and the"; \
	  echo "# Kafka cluster id apply when their volumes are first created (README, Running it): keep this file."; \
	  for name in $(COMPOSE_SECRETS); do echo "$$name=$$(LC_ALL=C tr -dc A-Za-z0-9 </dev/urandom | head -c 32)"; done; \
	  echo "KAFKA_CLUSTER_ID=$$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"; \
	} > $@
	@echo "wrote $@: random passwords for PostgreSQL, the wsm_processor and wsm_api roles and Grafana's admin"

.PHONY: start
start: compose-v2 .env ## Run the full stack in containers (Kafka, PostgreSQL, processors, API, Prometheus, Alertmanager, Grafana) and wait until healthy
	$(COMPOSE) up --detach --build --wait --wait-timeout 300
	@port() { $(COMPOSE) port "$$1" "$$2" 2>/dev/null || echo "(not published)"; }; \
	echo; \
	echo "  API           http://$$(port api 8000)   (OpenAPI: /openapi.json, docs: /docs)"; \
	echo "  Grafana       http://$$(port grafana 3000)   (anonymous read-only; admin: GRAFANA_ADMIN_PASSWORD in .env)"; \
	echo "  Prometheus    http://$$(port prometheus 9090)"; \
	webhook=$${ALERT_WEBHOOK_URL:-$$(sed -n 's/^ALERT_WEBHOOK_URL=//p' .env 2>/dev/null)}; \
	echo "  Alertmanager  http://$$(port alertmanager 9093)   (alerts $${webhook:+go to ALERT_WEBHOOK_URL}$${webhook:-are only listed here: set ALERT_WEBHOOK_URL})"; \
	echo "  Kafka         $$(port kafka 9092)   PostgreSQL $$(port postgres 5432) (owner postgres, POSTGRES_PASSWORD in .env)"; \
	echo "  stop with: make stop"

.PHONY: stop
stop: compose-v2 ## Stop the container stack (keeps its volumes; `docker compose down --volumes` drops them)
	$(COMPOSE) down

# docker-compose config with the required variables given (and an empty env file, not .env), then
# once without each of them: Compose must refuse, naming it.
.PHONY: check-compose
check-compose: install ## Check docker-compose.yml (docker-compose config) and what it sets (vitest)
	$(call need-deb,docker-compose,docker-compose)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && touch "$$tmp/env" && \
	check="docker-compose --env-file $$tmp/env -f docker-compose.yml config -q" && \
	env $(foreach name,$(COMPOSE_SECRETS),$(name)=check) $$check && echo "docker-compose.yml: valid" && \
	for missing in $(COMPOSE_SECRETS); do \
	  given=; for name in $(COMPOSE_SECRETS); do [ $$name = $$missing ] || given="$$given $$name=check"; done; \
	  if env -u $$missing $$given $$check 2>"$$tmp/err"; then echo "docker-compose.yml: $$missing is not required" >&2; exit 1; fi; \
	  grep -q "set $$missing" "$$tmp/err" || { cat "$$tmp/err" >&2; exit 1; }; \
	  echo "docker-compose.yml: refuses to start without $$missing"; \
	done
	$(NPX) vitest run lib/dev/__tests__/compose.test.ts

.PHONY: dev
dev: install ## Run the product here: embedded PostgreSQL, the librdkafka mock cluster, processor, API (DEV_PRODUCE_RATE=N adds the generator)
	@mkdir -p .dev
	@exec node --import tsx lib/dev/main.ts

.PHONY: verify-dashboard
verify-dashboard: install ## Run the embedded stack and a real Prometheus, drive load, and check every dashboard query returns data
	$(call need-deb,prometheus,prometheus)
	$(NPX) tsx lib/dev/verify/main.ts

.PHONY: load
load: install ## Benchmark the API with autocannon (cache on/off, 20-200 connections); report in load/results/
	LOG_LEVEL=$${LOG_LEVEL:-warn} $(NPX) tsx load/api-bench.ts $(ARGS)

.PHONY: bench
bench: install ## Ingest benchmark: processor end to end vs per-message baseline and COPY ceiling, batch sweep (~5 min)
	LOG_LEVEL=$${LOG_LEVEL:-warn} $(NPX) tsx load/bench/main.ts $(ARGS)
