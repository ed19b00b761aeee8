"""CloudWatch Logs: its CloudFormation type, and what the emulated services log into it."""
