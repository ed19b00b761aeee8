"""The e-commerce model: one declarative definition of every entity.

Everything else is projected from here (Spark schemas, Redshift DDL, Glue catalog columns,
data-quality rules, the generator's columns, hypothesis strategies), so adding a column is one
edit. The raw entities are the landing contract (`<raw root>/<entity>/ingest_date=.../*.csv`);
the warehouse tables are the star schema the pipeline loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Kind(StrEnum):
    """Logical column kinds; each projection maps them to its engine's types."""

    STRING = "string"
    SMALLINT = "smallint"
    INTEGER = "integer"
    BIGINT = "bigint"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"


@dataclass(frozen=True)
class DataType:
    kind: Kind
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    fixed: bool = False  # CHAR(n) rather than VARCHAR(n)


def varchar(length: int) -> DataType:
    return DataType(Kind.STRING, length=length)


def char(length: int) -> DataType:
    return DataType(Kind.STRING, length=length, fixed=True)


def decimal(precision: int, scale: int) -> DataType:
    return DataType(Kind.DECIMAL, precision=precision, scale=scale)


SMALLINT = DataType(Kind.SMALLINT)
INTEGER = DataType(Kind.INTEGER)
BIGINT = DataType(Kind.BIGINT)
BOOLEAN = DataType(Kind.BOOLEAN)
DATE = DataType(Kind.DATE)
TIMESTAMP = DataType(Kind.TIMESTAMP)
MONEY = decimal(18, 2)
RATE = decimal(18, 8)


class Severity(StrEnum):
    """A blocking failure stops the run before the warehouse is touched; a warning is kept."""

    BLOCK = "block"
    WARN = "warn"


@dataclass(frozen=True)
class Column:
    name: str
    type: DataType
    nullable: bool = True
    pii: bool = False
    accepted_values: tuple[str, ...] = ()
    min_value: Decimal | None = None
    min_exclusive: bool = False
    max_value: Decimal | None = None
    pattern: str | None = None
    source: str | None = None  # dotted path in a JSON source record, when not `name`
    identity: bool = False  # surrogate key the warehouse assigns
    description: str = ""

    @property
    def source_path(self) -> tuple[str, ...]:
        return tuple((self.source or self.name).split("."))


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    references: str
    referenced_columns: tuple[str, ...]


class Layer(StrEnum):
    RAW = "raw"
    DIMENSION = "dimension"
    FACT = "fact"
    AUDIT = "audit"
    ANALYTICS = "analytics"  # derived from the loaded tables after a run, not loaded by it


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class DistStyle(StrEnum):
    ALL = "ALL"
    KEY = "KEY"
    EVEN = "EVEN"
    AUTO = "AUTO"


@dataclass(frozen=True)
class Entity:
    name: str
    layer: Layer
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    description: str = ""
    file_format: FileFormat | None = None  # raw entities only
    scd_type: int | None = None  # 2: history kept with valid_from/valid_to/is_current
    natural_key: tuple[str, ...] = ()  # SCD2 business key, as opposed to the surrogate `key`
    dist_style: DistStyle = DistStyle.AUTO
    dist_key: str | None = None
    sort_key: tuple[str, ...] = ()
    freshness_hours: int | None = None
    max_volume_change: float | None = None  # allowed relative change against recent batches
    extra: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


ZERO = Decimal(0)
ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
CHANNELS = ("web", "mobile", "marketplace")
PAYMENT_STATUSES = ("authorized", "captured", "refunded", "failed")
PAYMENT_METHODS = ("card", "paypal", "bank_transfer", "gift_card")
CARD_BRANDS = ("visa", "mastercard", "amex", "discover")
COUNTRY_CODE = r"^[A-Z]{2}$"
CURRENCY_CODE = r"^[A-Z]{3}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _money(name: str, *, nullable: bool = False, description: str = "") -> Column:
    return Column(name, MONEY, nullable=nullable, min_value=ZERO, description=description)


# ---------------------------------------------------------------- raw landing contract

CUSTOMERS = Entity(
    name="customers",
    layer=Layer.RAW,
    file_format=FileFormat.CSV,
    key=("customer_id",),
    freshness_hours=48,
    max_volume_change=3.0,
    columns=(
        Column("customer_id", varchar(32), nullable=False),
        Column("email", varchar(256), nullable=False, pii=True, pattern=EMAIL),
        Column("first_name", varchar(100), nullable=False, pii=True),
        Column("last_name", varchar(100), nullable=False, pii=True),
        Column("country_code", char(2), nullable=False, pattern=COUNTRY_CODE),
        Column("city", varchar(100)),
        Column("signup_ts", TIMESTAMP, nullable=False),
        Column("marketing_opt_in", BOOLEAN, nullable=False),
        Column("updated_at", TIMESTAMP, nullable=False),
    ),
)

PRODUCTS = Entity(
    name="products",
    layer=Layer.RAW,
    file_format=FileFormat.CSV,
    key=("product_id",),
    freshness_hours=48,
    max_volume_change=3.0,
    columns=(
        Column("product_id", varchar(32), nullable=False),
        Column("sku", varchar(64), nullable=False),
        Column("product_name", varchar(256), nullable=False),
        Column("category", varchar(64), nullable=False),
        Column("subcategory", varchar(64)),
        Column("brand", varchar(64)),
        _money("unit_price", description="list price in USD"),
        _money("unit_cost", description="cost in USD"),
        Column("active", BOOLEAN, nullable=False),
        Column("updated_at", TIMESTAMP, nullable=False),
    ),
)

ORDERS = Entity(
    name="orders",
    layer=Layer.RAW,
    file_format=FileFormat.CSV,
    key=("order_id",),
    foreign_keys=(ForeignKey(("customer_id",), "customers", ("customer_id",)),),
    freshness_hours=48,
    max_volume_change=3.0,
    columns=(
        Column("order_id", varchar(32), nullable=False),
        Column("customer_id", varchar(32), nullable=False),
        Column("order_ts", TIMESTAMP, nullable=False),
        Column("status", varchar(16), nullable=False, accepted_values=ORDER_STATUSES),
        Column("channel", varchar(16), nullable=False, accepted_values=CHANNELS),
        Column("currency", char(3), nullable=False, pattern=CURRENCY_CODE),
        _money("shipping_amount", description="in the order's currency"),
        _money("discount_amount", description="order-level discount, in the order's currency"),
        Column("updated_at", TIMESTAMP, nullable=False),
    ),
)

ORDER_ITEMS = Entity(
    name="order_items",
    layer=Layer.RAW,
    file_format=FileFormat.CSV,
    key=("order_id", "line_number"),
    foreign_keys=(
        ForeignKey(("order_id",), "orders", ("order_id",)),
        ForeignKey(("product_id",), "products", ("product_id",)),
    ),
    freshness_hours=48,
    max_volume_change=3.0,
    columns=(
        Column("order_id", varchar(32), nullable=False),
        Column("line_number", INTEGER, nullable=False, min_value=Decimal(1)),
        Column("product_id", varchar(32), nullable=False),
        Column("quantity", INTEGER, nullable=False, min_value=ZERO, min_exclusive=True),
        _money("unit_price", description="in the order's currency"),
        _money("discount_amount", description="line discount, in the order's currency"),
    ),
)

EXCHANGE_RATES = Entity(
    name="exchange_rates",
    layer=Layer.RAW,
    file_format=FileFormat.CSV,
    key=("currency", "rate_date"),
    freshness_hours=48,
    columns=(
        Column("currency", char(3), nullable=False, pattern=CURRENCY_CODE),
        Column("rate_date", DATE, nullable=False),
        Column("usd_per_unit", RATE, nullable=False, min_value=ZERO, min_exclusive=True),
    ),
)

PAYMENTS = Entity(
    name="payments",
    layer=Layer.RAW,
    file_format=FileFormat.JSONL,
    key=("payment_id",),
    foreign_keys=(ForeignKey(("order_id",), "orders", ("order_id",)),),
    freshness_hours=48,
    max_volume_change=3.0,
    columns=(
        Column("payment_id", varchar(32), nullable=False),
        Column("order_id", varchar(32), nullable=False),
        _money("amount", description="in `currency`"),
        Column("currency", char(3), nullable=False, pattern=CURRENCY_CODE),
        Column("status", varchar(16), nullable=False, accepted_values=PAYMENT_STATUSES),
        Column("created_at", TIMESTAMP, nullable=False),
        Column(
            "method_type",
            varchar(16),
            nullable=False,
            accepted_values=PAYMENT_METHODS,
            source="method.type",
        ),
        Column("card_brand", varchar(16), accepted_values=CARD_BRANDS, source="method.card_brand"),
        Column("card_last4", char(4), pii=True, pattern=r"^[0-9]{4}$", source="method.last4"),
    ),
)

RAW_ENTITIES: tuple[Entity, ...] = (
    CUSTOMERS,
    PRODUCTS,
    EXCHANGE_RATES,
    ORDERS,
    ORDER_ITEMS,
    PAYMENTS,
)

# ---------------------------------------------------------------- warehouse star schema

_SCD2_COLUMNS = (
    Column("valid_from", TIMESTAMP, nullable=False),
    Column("valid_to", TIMESTAMP, nullable=False, description="9999-12-31 while current"),
    Column("is_current", BOOLEAN, nullable=False),
    Column("row_hash", char(64), nullable=False, description="sha256 of the tracked columns"),
)
_LINEAGE_COLUMNS = (
    Column("batch_date", DATE, nullable=False, description="ingest date the row came from"),
    Column("run_id", varchar(64), nullable=False),
)


SURROGATE_KEY = (
    "deterministic: xxhash64 of the natural key and valid_from, computed by the dimensions job, "
    "so reruns and facts loaded earlier keep the same key"
)


def _tracked(entity: Entity, *, drop: tuple[str, ...] = ("updated_at",)) -> tuple[Column, ...]:
    return tuple(c for c in entity.columns if c.name not in drop)


DIM_DATE = Entity(
    name="dim_date",
    layer=Layer.DIMENSION,
    key=("date_key",),
    dist_style=DistStyle.ALL,
    sort_key=("date_key",),
    columns=(
        Column("date_key", INTEGER, nullable=False, description="yyyymmdd"),
        Column("full_date", DATE, nullable=False),
        Column("year", SMALLINT, nullable=False),
        Column("quarter", SMALLINT, nullable=False),
        Column("month", SMALLINT, nullable=False),
        Column("month_name", varchar(9), nullable=False),
        Column("iso_week", SMALLINT, nullable=False),
        Column("day_of_month", SMALLINT, nullable=False),
        Column("day_of_week", SMALLINT, nullable=False, description="1 = Monday (ISO)"),
        Column("day_name", varchar(9), nullable=False),
        Column("is_weekend", BOOLEAN, nullable=False),
    ),
)

DIM_CUSTOMER = Entity(
    name="dim_customer",
    layer=Layer.DIMENSION,
    key=("customer_sk",),
    natural_key=("customer_id",),
    scd_type=2,
    dist_style=DistStyle.KEY,
    dist_key="customer_sk",
    sort_key=("customer_id", "valid_from"),
    columns=(
        Column("customer_sk", BIGINT, nullable=False, description=SURROGATE_KEY),
        *_tracked(CUSTOMERS),
        *_SCD2_COLUMNS,
        *_LINEAGE_COLUMNS,
    ),
)

DIM_PRODUCT = Entity(
    name="dim_product",
    layer=Layer.DIMENSION,
    key=("product_sk",),
    natural_key=("product_id",),
    scd_type=2,
    dist_style=DistStyle.ALL,
    sort_key=("product_id", "valid_from"),
    columns=(
        Column("product_sk", BIGINT, nullable=False, description=SURROGATE_KEY),
        *_tracked(PRODUCTS),
        *_SCD2_COLUMNS,
        *_LINEAGE_COLUMNS,
    ),
)

FACT_EXCHANGE_RATE = Entity(
    name="fact_exchange_rate",
    layer=Layer.FACT,
    key=("currency", "rate_date"),
    dist_style=DistStyle.ALL,
    sort_key=("rate_date", "currency"),
    columns=(*EXCHANGE_RATES.columns, *_LINEAGE_COLUMNS),
)

_DATE_FK = ForeignKey(("order_date_key",), "dim_date", ("date_key",))
_CUSTOMER_FK = ForeignKey(("customer_sk",), "dim_customer", ("customer_sk",))

FACT_ORDER_LINE = Entity(
    name="fact_order_line",
    layer=Layer.FACT,
    key=("order_id", "line_number"),
    foreign_keys=(
        _DATE_FK,
        _CUSTOMER_FK,
        ForeignKey(("product_sk",), "dim_product", ("product_sk",)),
        ForeignKey(("order_id",), "fact_order", ("order_id",)),
    ),
    dist_style=DistStyle.KEY,
    dist_key="customer_sk",
    sort_key=("order_date_key",),
    max_volume_change=3.0,
    columns=(
        Column("order_id", varchar(32), nullable=False),
        Column("line_number", INTEGER, nullable=False),
        Column("order_date_key", INTEGER, nullable=False),
        Column("customer_sk", BIGINT, nullable=False),
        Column("product_sk", BIGINT, nullable=False),
        Column("status", varchar(16), nullable=False, accepted_values=ORDER_STATUSES),
        Column("currency", char(3), nullable=False),
        Column("quantity", INTEGER, nullable=False, min_value=ZERO, min_exclusive=True),
        _money("unit_price", description="in the order's currency"),
        Column("usd_per_unit", RATE, nullable=False, min_value=ZERO, min_exclusive=True),
        _money("gross_amount_usd", description="quantity * unit_price, in USD"),
        _money("discount_amount_usd"),
        Column("net_amount_usd", MONEY, nullable=False),
        _money("cost_amount_usd", description="quantity * product unit_cost at order time"),
        *_LINEAGE_COLUMNS,
    ),
)

FACT_ORDER = Entity(
    name="fact_order",
    layer=Layer.FACT,
    key=("order_id",),
    foreign_keys=(_DATE_FK, _CUSTOMER_FK),
    dist_style=DistStyle.KEY,
    dist_key="customer_sk",
    sort_key=("order_date_key",),
    max_volume_change=3.0,
    columns=(
        Column("order_id", varchar(32), nullable=False),
        Column("order_date_key", INTEGER, nullable=False),
        Column("customer_sk", BIGINT, nullable=False),
        Column("order_ts", TIMESTAMP, nullable=False),
        Column("status", varchar(16), nullable=False, accepted_values=ORDER_STATUSES),
        Column("channel", varchar(16), nullable=False, accepted_values=CHANNELS),
        Column("currency", char(3), nullable=False),
        Column("line_count", INTEGER, nullable=False, min_value=ZERO),
        Column("item_quantity", INTEGER, nullable=False, min_value=ZERO),
        _money("items_amount_usd"),
        _money("discount_amount_usd"),
        _money("shipping_amount_usd"),
        Column("total_amount_usd", MONEY, nullable=False),
        Column("updated_at", TIMESTAMP, nullable=False),
        *_LINEAGE_COLUMNS,
    ),
)

FACT_PAYMENT = Entity(
    name="fact_payment",
    layer=Layer.FACT,
    key=("payment_id",),
    foreign_keys=(
        ForeignKey(("payment_date_key",), "dim_date", ("date_key",)),
        ForeignKey(("order_id",), "fact_order", ("order_id",)),
    ),
    dist_style=DistStyle.KEY,
    dist_key="customer_sk",
    sort_key=("payment_date_key",),
    columns=(
        Column("payment_id", varchar(32), nullable=False),
        Column("order_id", varchar(32), nullable=False),
        Column("customer_sk", BIGINT, nullable=False),
        Column("payment_date_key", INTEGER, nullable=False),
        Column("created_at", TIMESTAMP, nullable=False),
        Column("status", varchar(16), nullable=False, accepted_values=PAYMENT_STATUSES),
        Column("method_type", varchar(16), nullable=False, accepted_values=PAYMENT_METHODS),
        Column("card_brand", varchar(16), accepted_values=CARD_BRANDS),
        Column("currency", char(3), nullable=False),
        _money("amount"),
        _money("amount_usd"),
        *_LINEAGE_COLUMNS,
    ),
)

QUARANTINE = Entity(
    name="quarantine",
    layer=Layer.AUDIT,
    key=("batch_date", "entity", "source_file", "line_number"),
    dist_style=DistStyle.EVEN,
    sort_key=("batch_date", "entity"),
    columns=(
        Column("batch_date", DATE, nullable=False),
        Column("entity", varchar(32), nullable=False),
        Column("source_file", varchar(1024), nullable=False),
        Column("line_number", INTEGER, nullable=False),
        Column("reason", varchar(32), nullable=False),
        Column("detail", varchar(1024), nullable=False),
        Column("raw_text", varchar(65535), nullable=False, pii=True),
        Column("run_id", varchar(64), nullable=False),
    ),
)

DQ_RESULT = Entity(
    name="dq_result",
    layer=Layer.AUDIT,
    key=("run_id", "table_name", "rule"),
    dist_style=DistStyle.EVEN,
    sort_key=("checked_at",),
    columns=(
        Column("run_id", varchar(64), nullable=False),
        Column("table_name", varchar(64), nullable=False),
        Column("rule", varchar(256), nullable=False),
        Column("severity", varchar(8), nullable=False, accepted_values=tuple(Severity)),
        Column("passed", BOOLEAN, nullable=False),
        Column("checked_count", BIGINT, nullable=False),
        Column("failed_count", BIGINT, nullable=False),
        Column("detail", varchar(1024)),
        Column("checked_at", TIMESTAMP, nullable=False),
    ),
)

BATCH_LINEAGE = Entity(
    name="batch_lineage",
    layer=Layer.AUDIT,
    key=("batch_date", "entity", "source_file"),
    dist_style=DistStyle.EVEN,
    sort_key=("batch_date",),
    columns=(
        Column("batch_date", DATE, nullable=False),
        Column("entity", varchar(32), nullable=False),
        Column("source_file", varchar(1024), nullable=False),
        Column("records_read", BIGINT, nullable=False),
        Column("records_loaded", BIGINT, nullable=False),
        Column("records_quarantined", BIGINT, nullable=False),
        Column("run_id", varchar(64), nullable=False),
        Column("loaded_at", TIMESTAMP, nullable=False),
    ),
)

PIPELINE_RUN = Entity(
    name="pipeline_run",
    layer=Layer.AUDIT,
    description="One row per step the pipeline ran, and one `pipeline` row per execution, "
    "written by the state machine as each ends (a resumed step adds a row, it keeps the old)",
    key=("run_id", "step", "started_at"),
    dist_style=DistStyle.EVEN,
    sort_key=("started_at",),
    columns=(
        Column("run_id", varchar(64), nullable=False),
        Column("step", varchar(64), nullable=False),
        Column("status", varchar(16), nullable=False),
        Column("started_at", TIMESTAMP, nullable=False),
        Column("finished_at", TIMESTAMP),
        Column("rows_in", BIGINT, description="records or rows the step read"),
        Column("rows_out", BIGINT, description="rows the step wrote"),
        Column("quarantined", BIGINT, description="records the step quarantined"),
        Column("dq_score", decimal(5, 2), description="share of rules passed, in percent"),
        Column("detail", varchar(4096)),
    ),
)

WAREHOUSE_TABLES: tuple[Entity, ...] = (
    DIM_DATE,
    DIM_CUSTOMER,
    DIM_PRODUCT,
    FACT_EXCHANGE_RATE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_PAYMENT,
    QUARANTINE,
    DQ_RESULT,
    BATCH_LINEAGE,
    PIPELINE_RUN,
)

ENTITIES: dict[str, Entity] = {e.name: e for e in (*RAW_ENTITIES, *WAREHOUSE_TABLES)}


def entity(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError(f"no entity {name!r}; known: {', '.join(ENTITIES)}") from None
