"""Redshift SQL -> DuckDB SQL with Redshift semantics (see `translator`)."""

from .errors import TranslationError, UnsupportedConstruct
from .parameters import bind_parameters, split_script
from .translator import Catalog, catalog_from_ddl, translate, translate_script

__all__ = [
    "Catalog",
    "catalog_from_ddl",
    "TranslationError",
    "UnsupportedConstruct",
    "bind_parameters",
    "split_script",
    "translate",
    "translate_script",
]
