"""Redshift SQL -> DuckDB SQL with Redshift's semantics (see `translator`)."""

from .errors import TranslationError, UnsupportedConstruct
from .translator import Catalog, translate, translate_script

__all__ = ["Catalog", "TranslationError", "UnsupportedConstruct", "translate", "translate_script"]
