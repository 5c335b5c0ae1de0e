"""OpenAPI fuzzing (schemathesis): whatever a client sends, the API never answers 5xx."""

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.conftest import Service


@schemathesis.serializer("message/rfc822")
def _raw_message(context: Any, value: Any) -> bytes:
    """Inbound mail is posted raw: fuzz it with whatever text the schema allows."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)


def test_no_input_makes_a_server_error(service: Service) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_server_error(case: Any) -> None:
            for headers in (service.auth("admin"), service.auth("editor"), {}):
                response = case.call(headers=headers)
                assert response.status_code < 500, (
                    case.method,
                    case.formatted_path,
                    response.text[:300],
                )

        no_server_error()
