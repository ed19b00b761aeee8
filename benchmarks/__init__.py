"""Speed and memory benchmarks, run by `nox -s bench`; each module has `run() -> Table`."""
