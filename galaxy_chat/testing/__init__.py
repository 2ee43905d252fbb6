"""Real peers for tests and benchmarks: servers on 127.0.0.1 that speak the wire formats the app talks to."""
