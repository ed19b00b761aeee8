import pyarrow as pa
import pytest

from ecomdw.core.arrow_schema import arrow_schema
from ecomdw.core.model import ENTITIES, FACT_ORDER_LINE
from ecomdw.core.redshift_ddl import redshift_type

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_arrow_schema_follows_the_model(name: str) -> None:
    entity = ENTITIES[name]
    schema = arrow_schema(entity)
    assert schema.names == list(entity.column_names)
    assert [f.nullable for f in schema] == [c.nullable for c in entity.columns]


def test_decimals_keep_the_models_precision_and_scale() -> None:
    column = FACT_ORDER_LINE.column("net_amount_usd")
    field = arrow_schema(FACT_ORDER_LINE).field("net_amount_usd")
    assert field.type == pa.decimal128(18, 2)
    assert redshift_type(column.type) == "DECIMAL(18,2)"
