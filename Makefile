# muster: build, test, lint, bench.
GO      ?= go
BIN     ?= bin/muster
PKGS    := ./...

.PHONY: build test lint bench run clean

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/muster

# Everything that needs no outside service, with the race detector.
test:
	$(GO) test -race -count=1 $(PKGS)

lint:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting" && exit 1)
	$(GO) vet $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/... 
	@echo "HTTP load benchmarks: see bench/README.md"

run: build
	$(BIN) server

clean:
	rm -rf bin muster-data
