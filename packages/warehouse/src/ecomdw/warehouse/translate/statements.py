"""Statements whose Redshift form has no DuckDB twin: CREATE TABLE options, COPY, UNLOAD, MERGE."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.tokenizer_core import Token, TokenType

from . import types as rt
from .build import line_of
from .errors import FEATURE_NOT_SUPPORTED, RedshiftRefusalError, UnsupportedConstruct

# Physical-design clauses: they place and order rows on Redshift slices, never change results.
PHYSICAL_PROPERTIES = (
    exp.DistStyleProperty,
    exp.DistKeyProperty,
    exp.SortKeyProperty,
    exp.BackupProperty,
)
# Redshift accepts but does not enforce key constraints; DuckDB would reject duplicates.
INFORMATIONAL_CONSTRAINTS = (
    exp.PrimaryKeyColumnConstraint,
    exp.UniqueColumnConstraint,
    exp.EncodeColumnConstraint,
)
UNSUPPORTED_TYPES = {
    exp.DataType.Type.SUPER,
    exp.DataType.Type.GEOMETRY,
    exp.DataType.Type.GEOGRAPHY,
}


def duckdb_type(data_type: exp.DataType, node: exp.Expr) -> exp.DataType:
    """DuckDB column type for a Redshift one: strings lose their length, DECIMAL gets (18, 0)."""
    if data_type.this in UNSUPPORTED_TYPES:
        raise UnsupportedConstruct(
            data_type.sql("redshift"), line_of(node), "type has no DuckDB equivalent"
        )
    if data_type.this in rt.STRING_TYPES:
        return exp.DataType.build("VARCHAR")
    return rt.with_redshift_defaults(data_type)


# Lengths Redshift gives string types declared without one (Character types,
# https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html).
DEFAULT_STRING_LENGTHS = {
    exp.DataType.Type.CHAR: 1,
    exp.DataType.Type.NCHAR: 1,
    exp.DataType.Type.BPCHAR: 256,
    exp.DataType.Type.VARCHAR: 256,
    exp.DataType.Type.NVARCHAR: 256,
    exp.DataType.Type.TEXT: 256,
}
VARCHAR_MAX = 65535


def _string_length(data_type: exp.DataType) -> int:
    if not data_type.expressions:
        return DEFAULT_STRING_LENGTHS[data_type.this]
    length = data_type.expressions[0].this
    return VARCHAR_MAX if length.name.upper() == "MAX" else int(length.name)


def length_check(column: str, data_type: exp.DataType) -> exp.ColumnConstraint:
    """Redshift refuses a string longer, in bytes, than its column: DuckDB's VARCHAR has no
    length, so a CHECK keeps it. A CHAR's trailing blanks do not count (they are not stored).
    `redshift_errors` reads the check back as `value too long for type ...`."""
    value: exp.Expr = exp.column(column)
    if rt.is_char(data_type):
        value = exp.Anonymous(this="rtrim", expressions=[value])
    # DuckDB's strlen counts bytes, as Redshift's lengths do.
    size = exp.Anonymous(this="strlen", expressions=[value])
    limit = exp.Literal.number(_string_length(data_type))
    return exp.ColumnConstraint(
        kind=exp.CheckColumnConstraint(this=exp.LTE(this=size, expression=limit))
    )


def create_table(create: exp.Create) -> tuple[list[str], dict[str, str]]:
    """DuckDB statements for CREATE TABLE and the Redshift column types it declares.

    IDENTITY(seed, step) becomes a sequence default; physical options and informational
    keys are dropped.
    """
    schema = create.this
    table = schema.this
    properties = create.args.get("properties")
    if properties is not None:
        kept = [p for p in properties.expressions if not isinstance(p, PHYSICAL_PROPERTIES)]
        properties.set("expressions", kept)
        if not kept:
            create.set("properties", None)
    prelude: list[str] = []
    columns: dict[str, str] = {}
    definitions = []
    for definition in schema.expressions:
        if isinstance(definition, (exp.PrimaryKey, exp.ForeignKey, exp.UniqueColumnConstraint)):
            continue
        if isinstance(definition, exp.ColumnDef):
            kind = definition.args.get("kind")
            if kind is not None:
                columns[definition.name] = kind.sql("redshift")
                definition.set("kind", duckdb_type(rt.with_redshift_defaults(kind), definition))
            constraints = []
            if kind is not None and kind.this in rt.STRING_TYPES:
                constraints.append(length_check(definition.name, kind))
            for constraint in definition.args.get("constraints") or []:
                kind_node = constraint.args.get("kind")
                if isinstance(kind_node, INFORMATIONAL_CONSTRAINTS):
                    continue
                if isinstance(kind_node, exp.GeneratedAsIdentityColumnConstraint):
                    sequence = f"{table.name}_{definition.name}_identity"
                    if table.args.get("db"):
                        sequence = f"{table.args['db'].name}.{sequence}"
                    start = kind_node.args.get("start") or exp.Literal.number(1)
                    step = kind_node.args.get("increment") or exp.Literal.number(1)
                    bound = "MAXVALUE" if step.sql().startswith("-") else "MINVALUE"
                    prelude.append(
                        f"CREATE SEQUENCE IF NOT EXISTS {sequence} "
                        f"START {start.sql()} INCREMENT {step.sql()} {bound} {start.sql()}"
                    )
                    constraint = exp.ColumnConstraint(  # noqa: PLW2901 - the identity is replaced
                        kind=exp.DefaultColumnConstraint(
                            this=exp.func("nextval", exp.Literal.string(sequence))
                        )
                    )
                constraints.append(constraint)
            definition.set("constraints", constraints)
        definitions.append(definition)
    schema.set("expressions", definitions)
    return [*prelude, create.sql("duckdb")], columns


def normalize_merge(statement: exp.Merge) -> exp.Merge:
    """sqlglot reads `INSERT VALUES (...)` in a MERGE as a call to a function named VALUES."""
    for when in statement.args["whens"].expressions:
        insert = when.args.get("then")
        if isinstance(insert, exp.Insert) and not insert.args.get("expression"):
            values = insert.this.expressions[0] if isinstance(insert.this, exp.Tuple) else None
            if isinstance(values, exp.Anonymous) and values.name.lower() == "values":
                insert.set("this", None)
                insert.set("expression", exp.Tuple(expressions=values.expressions))
    return statement


def merge(statement: exp.Merge) -> list[str]:
    """MERGE plus a guard: Redshift refuses a target row matched by several source rows, in its
    words (MERGE, https://docs.aws.amazon.com/redshift/latest/dg/r_MERGE.html)."""
    target = statement.this
    source = statement.args["using"]
    guard = (
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM "
        f"{target.sql('duckdb')} JOIN {source.sql('duckdb')} "
        f"ON {statement.args['on'].sql('duckdb')} "
        f"GROUP BY {target.sql('duckdb')}.rowid HAVING COUNT(*) > 1) "
        "THEN error('Found multiple matches to update the same tuple.') END"
    )
    body = statement.sql("duckdb").replace(
        "WHEN NOT MATCHED THEN INSERT (VALUES", "WHEN NOT MATCHED THEN INSERT VALUES ("
    )
    return [guard, body]


@dataclass(frozen=True)
class Options:
    """A COPY or UNLOAD command cut into its parts, keyword options upper-cased."""

    head: list[Token]
    uri: str
    options: dict[str, list[Token]]
    line: int


# Options that only say how to reach S3: the caller configures DuckDB's access instead.
ACCESS_OPTIONS = {
    "IAM_ROLE",
    "CREDENTIALS",
    "ACCESS_KEY_ID",
    "SECRET_ACCESS_KEY",
    "SESSION_TOKEN",
    "REGION",
}
COPY_OPTIONS = ACCESS_OPTIONS | {
    "FORMAT",
    "PARQUET",
    "CSV",
    "DELIMITER",
    "IGNOREHEADER",
    "NULL",
    "GZIP",
    "QUOTE",
    "MANIFEST",
    "MAXERROR",
    # Invalid UTF-8 is replaced by Redshift; DuckDB refuses it, so valid data loads alike and
    # invalid data fails loudly rather than differently.
    "ACCEPTINVCHARS",
}
UNLOAD_OPTIONS = ACCESS_OPTIONS | {
    "FORMAT",
    "PARQUET",
    "CSV",
    "HEADER",
    "DELIMITER",
    "NULL",
    "GZIP",
    "ALLOWOVERWRITE",
    "CLEANPATH",
    "PARALLEL",
    "MAXFILESIZE",
    "MANIFEST",
    "EXTENSION",
}


WORD_VALUES = {
    "FORMAT": {"PARQUET", "CSV"},
    "IAM_ROLE": {"DEFAULT"},
    "PARALLEL": {"ON", "OFF", "TRUE", "FALSE"},
}


def _split_options(
    option_tokens: list[Token], allowed: set[str], command: str
) -> dict[str, list[Token]]:
    """Option name -> value tokens; any word that is neither a known option nor its value raises."""
    options: dict[str, list[Token]] = {}
    current: str | None = None
    for token in option_tokens:
        word = token.text.upper()
        is_value = token.token_type in (
            TokenType.STRING,
            TokenType.NUMBER,
        ) or word in WORD_VALUES.get(current or "", ())
        if is_value and current is not None:
            options[current].append(token)
        elif word == "AS" and current is not None:
            continue
        elif word in allowed:
            current = word
            options[current] = []
        else:
            raise UnsupportedConstruct(f"{command} option {token.text.upper()}", token.line)
    return options


def _format(options: dict[str, list[Token]], line: int, command: str) -> str:
    if "PARQUET" in options or any(t.text.upper() == "PARQUET" for t in options.get("FORMAT", [])):
        return "parquet"
    if "CSV" in options or any(t.text.upper() == "CSV" for t in options.get("FORMAT", [])):
        return "csv"
    raise UnsupportedConstruct(f"{command} without FORMAT AS PARQUET or CSV", line)


def _single(options: dict[str, list[Token]], name: str) -> str | None:
    values = options.get(name)
    if values is None:
        return None
    if len(values) != 1:
        raise UnsupportedConstruct(
            f"option {name}", values[0].line if values else None, "expects one value"
        )
    return values[0].text


FILES_VARIABLE = "ecomdw_copy_files"
MANIFEST_VARIABLE = "ecomdw_copy_manifest"
PATTERNS_VARIABLE = "ecomdw_copy_patterns"
# A manifest's shape (Using a manifest to specify data files,
# https://docs.aws.amazon.com/redshift/latest/dg/loading-data-files-using-manifest.html).
MANIFEST_COLUMNS = (
    "{'entries': 'STRUCT(url VARCHAR, mandatory BOOLEAN, meta STRUCT(content_length BIGINT))[]'}"
)
# Options COPY takes only for row formats (CSV): given with PARQUET, Redshift refuses the
# statement naming the option, as it documents for REGION ("REGION argument is not supported
# for PARQUET based COPY", COPY from columnar data formats,
# https://docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-columnar.html).
ROW_FORMAT_OPTIONS = {
    "REGION",
    "MAXERROR",
    "DELIMITER",
    "IGNOREHEADER",
    "NULL",
    "GZIP",
    "QUOTE",
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(texts: list[str]) -> str:
    return f"[{', '.join(map(_literal, texts))}]"


def _refuse_if(condition_sql: str, message: str) -> str:
    """A statement that raises Redshift's `message` when `condition_sql` holds."""
    return f"SELECT CASE WHEN {condition_sql} THEN error({_literal(message)}) END"


def _existing(urls_sql: str) -> str:
    """The objects of a list of exact URLs that exist, as a DuckDB list: DuckDB's glob returns
    a pattern without wildcards as it is on S3, so each URL is listed as a prefix."""
    return (
        f"(SELECT list(file) FROM glob([u || '*' FOR u IN {urls_sql}]) "
        f"WHERE list_contains({urls_sql}, file))"
    )


def _object_key(uri: str) -> str:
    """The key part of an `s3://bucket/key` URI (a local path stays whole), as errors name it."""
    return uri.split("/", 3)[3] if uri.startswith("s3://") and uri.count("/") >= 3 else uri


def _prefix_files(uri: str, columnar: bool) -> str:
    """The objects COPY reads for an object prefix, as a DuckDB list value.

    Row formats read every object whose key begins with the prefix: `custdata.txt` reads
    `custdata.txt.1` and the folder `custdata.txt_2/` alike (COPY from Amazon S3,
    https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html).
    Columnar formats read through Redshift Spectrum, which ignores files and folders whose
    names begin with `.`, `_` or `#` or end with `~` (External tables for Redshift Spectrum,
    https://docs.aws.amazon.com/redshift/latest/dg/c-spectrum-external-tables.html): Spark's
    `_SUCCESS`, `.part-0.crc` and `_temporary/`. No object at all is Redshift's load error
    `The specified S3 prefix '...' does not exist` (as quoted in
    https://github.com/3scale/apisonator/issues/196).
    """
    patterns = [f"{uri}**"] if uri.endswith("/") else [f"{uri}*", f"{uri}*/**"]
    folder = uri[: uri.rfind("/") + 1]
    conditions = [f"starts_with(file, {_literal(uri)})", "NOT ends_with(file, '/')"]
    if columnar:
        below = f"substr(file, {len(folder) + 1})"
        conditions.append(f"NOT regexp_matches({below}, '(^|/)[._#]|~(/|$)')")
    missing = _literal(f"The specified S3 prefix '{_object_key(uri)}' does not exist")
    return (
        f"(SELECT CASE WHEN count(*) = 0 THEN error({missing}) "
        "ELSE list(file ORDER BY file) END "
        f"FROM glob([{', '.join(_literal(p) for p in patterns)}]) "
        f"WHERE {' AND '.join(conditions)})"
    )


def _manifest_statements(uri: str, columnar: bool) -> list[str]:
    """Read the manifest's entries and check them as Redshift does, in order: the manifest
    exists, each columnar entry has `meta` (`File entry does not have 'meta' key.`, quoted in
    https://github.com/awslabs/aws-lambda-redshift-loader/pull/221), and every `mandatory`
    file exists (`Mandatory url is not present in manifest file.`, quoted in
    https://github.com/uswitch/blueshift/issues/3). A file listed twice loads twice."""
    entries = f"unnest(getvariable('{MANIFEST_VARIABLE}'))"
    urls = f"[e.url FOR e IN getvariable('{MANIFEST_VARIABLE}')]"
    statements = [
        _refuse_if(
            f"coalesce(len({_existing(_list([uri]))}), 0) = 0",
            "Problem reading manifest file - S3ServiceException:The specified key does not "
            "exist.,Status 404,Error NoSuchKey",
        ),
        f"SET VARIABLE {MANIFEST_VARIABLE} = (SELECT entries FROM "
        f"read_json({_literal(uri)}, format = 'unstructured', columns = {MANIFEST_COLUMNS}))",
    ]
    if columnar:
        statements.append(
            _refuse_if(
                f"EXISTS (SELECT 1 FROM (SELECT {entries} AS e) "
                "WHERE e.meta.content_length IS NULL)",
                "File entry does not have 'meta' key.",
            )
        )
    statements += [
        # glob takes a list computed from the manifest only through a variable.
        f"SET VARIABLE {PATTERNS_VARIABLE} = (SELECT [u || '*' FOR u IN {urls}])",
        f"SET VARIABLE {FILES_VARIABLE} = (SELECT list(file) FROM "
        f"glob(getvariable('{PATTERNS_VARIABLE}')) WHERE list_contains({urls}, file))",
        _refuse_if(
            f"EXISTS (SELECT 1 FROM (SELECT {entries} AS e) WHERE coalesce(e.mandatory, false) "
            f"AND NOT list_contains(coalesce(getvariable('{FILES_VARIABLE}'), []), e.url))",
            "Mandatory url is not present in manifest file.",
        ),
        f"SET VARIABLE {FILES_VARIABLE} = (SELECT list(e.url) FROM (SELECT {entries} AS e) "
        f"WHERE list_contains(coalesce(getvariable('{FILES_VARIABLE}'), []), e.url))",
        # "Regardless of any mandatory settings, COPY will terminate if no files are found."
        _refuse_if(
            f"coalesce(len(getvariable('{FILES_VARIABLE}')), 0) = 0",
            f"The specified S3 prefix '{_object_key(uri)}' does not exist",
        ),
    ]
    return statements


def _target_guard(target: exp.Expr) -> str:
    """Redshift's words for a COPY into a table that does not exist (`Cannot COPY into
    nonexistent table t`, quoted in https://github.com/estuary/connectors/pull/918)."""
    table = target.this if isinstance(target, exp.Schema) else target
    schema = table.args.get("db")
    where = f"lower(table_name) = {_literal(table.name.lower())}"
    if schema is not None:
        where += f" AND lower(table_schema) = {_literal(schema.name.lower())}"
    return _refuse_if(
        f"NOT EXISTS (SELECT 1 FROM information_schema.tables WHERE {where})",
        f"Cannot COPY into nonexistent table {table.name.lower()}",
    )


def copy_command(statement_tokens: list[Token], target: exp.Expr) -> list[str]:
    """COPY table FROM 's3://prefix' | 's3://manifest' MANIFEST ... FORMAT AS PARQUET|CSV as
    DuckDB statements: a guard on the target, the files to read (listed by DuckDB when the
    statement runs), and an INSERT ... SELECT over them."""
    line = statement_tokens[0].line
    from_index = next((i for i, t in enumerate(statement_tokens) if t.text.upper() == "FROM"), None)
    if from_index is None or from_index + 1 >= len(statement_tokens):
        raise UnsupportedConstruct("COPY", line, "expects FROM 's3://...'")
    uri_token = statement_tokens[from_index + 1]
    if uri_token.token_type != TokenType.STRING:
        raise UnsupportedConstruct("COPY", line, "the source must be a quoted URI")
    options = _split_options(statement_tokens[from_index + 2 :], COPY_OPTIONS, "COPY")
    uri = uri_token.text
    fmt = _format(options, line, "COPY")
    columnar = fmt == "parquet"
    if columnar and (refused := sorted(set(options) & ROW_FORMAT_OPTIONS)):
        raise RedshiftRefusalError(
            FEATURE_NOT_SUPPORTED, f"{refused[0]} argument is not supported for PARQUET based COPY"
        )
    if int(_single(options, "MAXERROR") or 0) > 0:
        raise UnsupportedConstruct("COPY option MAXERROR above 0", line, "rows are not skipped")
    statements = [_target_guard(target)]
    if "MANIFEST" in options:
        statements += _manifest_statements(uri, columnar)
    else:
        statements.append(f"SET VARIABLE {FILES_VARIABLE} = {_prefix_files(uri, columnar)}")
    files = f"getvariable('{FILES_VARIABLE}')"
    table_sql = target.sql("duckdb")
    if columnar:
        # Redshift COPY reads no partition columns from `key=value` folders: neither may DuckDB.
        reader = f"read_parquet({files}, hive_partitioning = false)"
        return [*statements, f"INSERT INTO {table_sql} SELECT * FROM {reader}"]
    if int(_single(options, "IGNOREHEADER") or 0) > 1:
        raise UnsupportedConstruct("COPY option IGNOREHEADER above 1", line)
    arguments = [
        "all_varchar = true",
        f"header = {'true' if int(_single(options, 'IGNOREHEADER') or 0) > 0 else 'false'}",
        f"delim = {_literal(_single(options, 'DELIMITER') or ',')}",
        f"quote = {_literal(_single(options, 'QUOTE') or chr(34))}",
        f"nullstr = {_literal(_single(options, 'NULL') or '')}",
        f"compression = '{'gzip' if 'GZIP' in options else 'none'}'",
    ]
    reader = f"read_csv({files}, {', '.join(arguments)})"
    return [*statements, f"INSERT INTO {table_sql} SELECT * FROM {reader}"]


# Redshift's refusal to overwrite without ALLOWOVERWRITE (UNLOAD,
# https://docs.aws.amazon.com/redshift/latest/dg/r_UNLOAD.html: "By default, UNLOAD fails if
# it finds files that it would possibly overwrite").
NOT_EMPTY = (
    "Specified unload destination on S3 is not empty. Consider using a different bucket / "
    "prefix, manually removing the target files in S3, or using the ALLOWOVERWRITE option."
)
# Options whose text form Redshift refuses with PARQUET (UNLOAD, FORMAT AS PARQUET).
UNLOAD_TEXT_OPTIONS = {"DELIMITER", "HEADER", "GZIP", "NULL"}


def unload_command(option_tokens: list[Token], query_sql: str, line: int) -> list[str]:
    """UNLOAD ('query') TO 's3://prefix' ... as DuckDB COPY (query) TO the file Redshift names.

    The data goes to one file, named as a slice's first part is: `<prefix>0000_part_00`, or
    `<prefix>000` with PARALLEL OFF, `.parquet` added for PARQUET and EXTENSION's suffix as
    given; MANIFEST writes `<prefix>manifest` listing it with its `content_length`, which COPY
    ... MANIFEST reads back.
    """
    if not option_tokens or option_tokens[0].text.upper() != "TO" or len(option_tokens) < 2:
        raise UnsupportedConstruct("UNLOAD", line, "expects TO 's3://...'")
    uri = option_tokens[1].text
    options = _split_options(option_tokens[2:], UNLOAD_OPTIONS, "UNLOAD")
    fmt = _format(options, line, "UNLOAD")
    parallel = (_single(options, "PARALLEL") or "ON").upper() in ("ON", "TRUE")
    if "CLEANPATH" in options:
        raise UnsupportedConstruct("UNLOAD option CLEANPATH", line, "objects are not deleted")
    name = uri + ("0000_part_00" if parallel else "000")
    if fmt == "parquet":
        if refused := sorted(UNLOAD_TEXT_OPTIONS & set(options)):
            raise UnsupportedConstruct(f"UNLOAD option {refused[0]} with PARQUET", line)
        name += ".parquet"
        copy_options = "FORMAT parquet"
    else:
        copy_options = (
            f"FORMAT csv, HEADER {'true' if 'HEADER' in options else 'false'}, "
            f"DELIMITER {_literal(_single(options, 'DELIMITER') or ',')}, "
            f"NULLSTR {_literal(_single(options, 'NULL') or '')}, "
            f"COMPRESSION {'gzip' if 'GZIP' in options else 'none'}"
        )
        name += ".gz" if "GZIP" in options else ""
    if extension := _single(options, "EXTENSION"):
        name += extension if extension.startswith(".") else f".{extension}"
    statements = []
    if "ALLOWOVERWRITE" not in options:
        written = [name, *([uri + "manifest"] if "MANIFEST" in options else [])]
        statements.append(
            _refuse_if(f"coalesce(len({_existing(_list(written))}), 0) > 0", NOT_EMPTY)
        )
    statements.append(f"COPY ({query_sql}) TO {_literal(name)} ({copy_options})")
    if "MANIFEST" in options:
        statements.append(
            "COPY (SELECT list({'url': filename, 'meta': {'content_length': size}}) AS entries "
            f"FROM read_blob({_literal(name)})) TO {_literal(uri + 'manifest')} (FORMAT json)"
        )
    return statements
