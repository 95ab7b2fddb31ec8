"""Issue 8, finding 5: /api/openapi.json tells the truth: every filter a route reads is a
declared parameter, and every status a route answers is declared, with the ErrorOut schema."""

import pytest

from accounts.services import api_token_create

pytestmark = pytest.mark.django_db

FILTERS = ["q", "region", "category", "age_min", "age_max", "status", "sex"]


@pytest.fixture
def schema(client):
    return client.get("/api/openapi.json").json()


def operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield path, method, op


@pytest.mark.parametrize("name", FILTERS)
def test_the_list_declares_each_filter_it_reads(schema, name):
    params = {p["name"]: p for p in schema["paths"]["/api/elders"]["get"]["parameters"]}
    assert name in params and params[name]["in"] == "query"


def test_filters_have_their_types_in_the_schema(schema):
    params = {p["name"]: p["schema"] for p in schema["paths"]["/api/elders"]["get"]["parameters"]}
    assert params["category"]["type"] == "array"
    assert set(params["status"]["enum"]) >= {"active", "moved_out", "deceased", "institution", "all"}
    assert {"integer"} <= {s.get("type") for s in params["age_min"]["anyOf"]}


def test_every_operation_declares_the_shared_errors_with_error_out(schema):
    for path, method, op in operations(schema):
        responses = op["responses"]
        expected = {"400"}
        if op.get("security"):
            expected |= {"401"}
        if "{" in path:
            expected |= {"404"}
        if op.get("parameters") or op.get("requestBody"):
            expected |= {"422"}
        if method != "get":
            expected |= {"413"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for code in expected:
            ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorOut", (method, path, code)
    assert set(schema["components"]["schemas"]["ErrorOut"]["properties"]) == {"detail", "errors"}


def test_the_token_route_declares_429_and_401(schema):
    assert {"401", "429", "422"} <= set(schema["paths"]["/api/auth/token"]["post"]["responses"])


def _fill(path):
    return path.replace("{elder_id}", "999999").replace("{job_id}", "999999")


@pytest.mark.parametrize("who", ["anonymous", "worker", "auditor"])
@pytest.mark.parametrize("probe", ["plain", "nul", "surrogate", "bad json", "no boundary"])
def test_every_status_a_route_answers_is_declared(client, schema, worker, auditor, who, probe):
    """Each operation, probed as three users with five kinds of input: whatever it answers is in
    its declared responses, and never a 5xx."""
    headers = {}
    if who != "anonymous":
        headers["Authorization"] = f"Bearer {api_token_create(user={'worker': worker, 'auditor': auditor}[who])}"
    for path, method, op in operations(schema):
        url = _fill(path)
        kwargs = {"headers": headers}
        if probe == "nul":
            url += "?q=%00"
        elif probe == "surrogate":
            url += "?q=%ED%A0%80"
        if method != "get":
            if probe == "bad json":
                kwargs.update(data="{", content_type="application/json")
            elif probe == "no boundary":
                kwargs.update(data=b"--x\r\n", content_type="multipart/form-data")
            else:
                kwargs.update(data="{}", content_type="application/json")
        response = getattr(client, method)(url, **kwargs)
        assert response.status_code < 500, (method, url, response.content[:200])
        assert str(response.status_code) in op["responses"], (method, url, response.status_code, sorted(op["responses"]))


def test_no_two_schemas_share_a_name():
    """The OpenAPI names a component by its class name: two apps' `StatementOut` would make one
    route's documented answer the other's (it happened: settlements' statement and the time
    bank's). Every schema class reachable from a route has a name of its own."""
    from pydantic import BaseModel

    from yinling.api import api

    seen: dict[str, set[str]] = {}

    def walk(model, depth=0):
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or depth > 6:
            return
        seen.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
        for field in model.model_fields.values():
            for arg in (field.annotation, *getattr(field.annotation, "__args__", ())):
                for inner in (arg, *getattr(arg, "__args__", ())):
                    if isinstance(inner, type) and issubclass(inner, BaseModel) and inner.__name__ not in seen:
                        walk(inner, depth + 1)

    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.response_models.values():
                    walk(getattr(model, "model_fields", {}).get("response", None) and model.model_fields["response"].annotation)
    clashes = {name: where for name, where in seen.items() if len(where) > 1}
    assert clashes == {}
