"""Pure DataFrame -> DataFrame transforms of the Glue jobs: no reads, no writes."""
