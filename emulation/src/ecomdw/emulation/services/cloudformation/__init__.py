"""CloudFormation: stacks, change sets, and every deployed resource read back."""
