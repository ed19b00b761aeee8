"""S3: its CloudFormation types, and bucket policies evaluated as S3 evaluates them."""
