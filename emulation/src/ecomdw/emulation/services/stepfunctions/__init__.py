"""Step Functions: its CloudFormation type, and executions that run."""
