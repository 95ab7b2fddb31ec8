"""A form (multipart) posted to an API route that takes a JSON body is refused with the API's
error shape, not a 500 (the request guard had read the stream the route then read again)."""

import pytest

from accounts.services import api_token_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("data", [{}, {"q": "王"}])
def test_a_form_posted_to_a_json_route_is_a_422_not_a_500(client, worker, data):
    response = client.post("/api/elders/search", data, headers={"Authorization": f"Bearer {api_token_create(user=worker)}"})

    assert response.status_code == 422
    assert response.json()["detail"]
