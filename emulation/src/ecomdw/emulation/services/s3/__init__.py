"""S3: bucket policies evaluated as S3 evaluates them."""
