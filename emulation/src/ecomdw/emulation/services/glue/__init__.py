"""Glue as the emulator runs it: job runs in Glue 5.0's environment, crawlers, the catalog."""
