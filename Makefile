# Convenience wrapper; ./dev is the real entry point (it needs nothing but /bin/sh).
.PHONY: all demo test bench clean
all:
	./dev build
demo:
	./dev demo
test:
	./dev test
bench:
	./dev bench
clean:
	rm -rf build
