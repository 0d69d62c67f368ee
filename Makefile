# Grace — the two commands a newcomer needs are `make run` and `make test`.
GO       ?= go
BIN      ?= bin/grace
DATA     ?= grace-data
export CGO_ENABLED = 0

.PHONY: run build test test-short lint bench clean

## run: the console with its embedded engine, demo load on, data in ./grace-data
run: build
	./$(BIN) console --db $(DATA)/grace.db

## build: the cgo-free grace binary in bin/
build:
	$(GO) build -o $(BIN) ./cmd/grace

## test: the whole suite with the race detector (the race detector needs cgo)
test:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 12m ./...

## lint: gofmt, go vet and staticcheck
lint:
	@out=$$(gofmt -l cmd engine store tui); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## bench: the Go benchmarks of the store and engine, then the grace bench figures
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x -count 1 ./store/ ./engine/...
	./$(BIN) bench

clean:
	rm -rf bin
