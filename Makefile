# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of torch; a range here would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: demo test lint install install-dev bench bench-quick reliability report-example proto clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[server,report]"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[server,report,dev]"
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/loss-advisor demo
	@echo
	$(BIN)/loss-advisor report advisor/data/delivery_times.csv --target minutes \
		--predictions advisor/data/delivery_predictions.csv:predicted_minutes --validate -o demo-report.html

lint: install-dev
	$(BIN)/ruff check .

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# Regenerates the gRPC stubs in client/rpc from proto/ (the tests fail when they are stale).
proto: install-dev
	$(BIN)/python -m client.rpc.generate

# Full benchmarks (tens of minutes on 2 cores); `loss-advisor bench --quick` takes seconds.
bench: install-dev
	BENCH_FULL=1 $(BIN)/python -m pytest benchmarks -q -s --benchmark-only

bench-quick: install-dev
	$(BIN)/loss-advisor bench --quick

# Long forms of tests/reliability (2,500+ fuzzed requests, a 10,000-call soak, 30 s load,
# 300 cancels) and the service's lifecycle tests (stopping work, SIGTERM, time to SERVING),
# then their figures as the Markdown table of the README's Reliability section.
reliability: install-dev
	$(BIN)/python -m tests.reliability.report

# The README's example report: the bundled table and a model's predictions, as a page, and a
# screenshot of it in headless Chromium (apt-get install chromium), in docs/.
report-example: install-dev
	$(BIN)/loss-advisor report advisor/data/delivery_times.csv --target minutes \
		--predictions advisor/data/delivery_predictions.csv:predicted_minutes --validate \
		--title "Delivery times: which loss?" -o docs/report-example.html
	$(BIN)/python -m tests.report.browser docs/report-example.html --screenshot docs/report-example.png

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
