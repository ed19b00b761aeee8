"""CloudWatch Logs: what the emulated services log into it."""
