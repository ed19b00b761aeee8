"""Redshift SQL -> DuckDB SQL with Redshift semantics (see `translator`)."""

from .errors import TranslationError, UnsupportedConstruct
from .parameters import bind_parameters, bind_positional, split_script, string_literal
from .translator import Catalog, catalog_from_ddl, output_types, translate, translate_script

__all__ = [
    "Catalog",
    "TranslationError",
    "UnsupportedConstruct",
    "bind_parameters",
    "bind_positional",
    "catalog_from_ddl",
    "output_types",
    "split_script",
    "string_literal",
    "translate",
    "translate_script",
]
