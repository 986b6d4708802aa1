# The two commands of the README. Both prepare a fresh machine first (scripts/bootstrap.sh).
VENV := .venv/bin

.PHONY: up test down status lint

up: ## Bring up the local stack (dev), run the smoke verification, then a short capacity run with its SLO table.
	./scripts/bootstrap.sh
	$(VENV)/mcpstack up --env dev
	$(VENV)/mcpstack smoke --env dev
	$(VENV)/mcpstack loadtest --env dev --duration 30s

test: ## Run the whole test suite: lint, catalog, unit, Docker and e2e tests.
	./scripts/bootstrap.sh
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mcpstack validate
	$(VENV)/pytest --durations=10

down: ## Remove the local dev stack.
	$(VENV)/mcpstack down --env dev

status:
	$(VENV)/mcpstack status

lint:
	$(VENV)/ruff check . && $(VENV)/ruff format --check .
