"""ecomdw."""
