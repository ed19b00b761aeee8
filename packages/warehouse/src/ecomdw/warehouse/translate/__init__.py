"""Redshift SQL -> DuckDB SQL with Redshift semantics (see `translator`)."""

from .errors import TranslationError, UnsupportedConstruct
from .parameters import bind_parameters, split_script
from .translator import Catalog, catalog_from_ddl, translate, translate_script

__all__ = [
    "Catalog",
    "TranslationError",
    "UnsupportedConstruct",
    "bind_parameters",
    "catalog_from_ddl",
    "split_script",
    "translate",
    "translate_script",
]
