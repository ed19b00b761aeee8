"""The emulated AWS services, one package or module each, as moto lays out its own."""
