"""Step Functions: executions that run."""
